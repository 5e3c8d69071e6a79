# Zendesk ticket export -> Switchboard import lines (README "Importing tickets").
#
#   jq -c -f tools/import/zendesk.jq export.json > tickets.jsonl
#
# The export is one JSON object as Zendesk's API gives tickets with their side-loads
# (GET /api/v2/tickets.json?include=metric_sets,users,organizations, pages concatenated):
# {"tickets": [...], "metric_sets": [...], "users": [...], "organizations": [...]}.
#
# Each ticket becomes one line: created_at; "respond" at created_at + reply_time_in_minutes
# (its first public reply, from the ticket's metric set); "pend" at updated_at while the ticket is
# pending or on hold; "resolve" at solved_at once it is solved or closed. Actions carry no actor:
# the server names the importer, in the role that owns the request. Side conversations and
# linked tickets are not imported (their ids go into the body).
#
# Edit these for your instance:
#   $teams: Zendesk group name -> Switchboard team (a group not listed: the rules decide).
#   kind_of: how a ticket's type and tags map to a request kind.
#   The customer is the organization's external_id (else its name): Switchboard's customer
#   directory must know it, or the line needs "stage" (and "tier") in its customer.
def teams: {"Support": "se", "Customer Engineering": "ce", "Product": "product"};

def kind_of: if ((.tags // []) | index("feature_request")) then "feature_request"
             elif .type == "problem" or .type == "incident" then "troubleshooting"
             else "how_to" end;

def plus_minutes($m): (fromdateiso8601 + ($m * 60)) | todateiso8601;

(.metric_sets // [] | map({key: (.ticket_id | tostring), value: .}) | from_entries) as $metrics
| (.users // [] | map({key: (.id | tostring), value: .}) | from_entries) as $users
| (.organizations // [] | map({key: (.id | tostring), value: .}) | from_entries) as $orgs
| (.groups // [] | map({key: (.id | tostring), value: .name}) | from_entries) as $groups
| .tickets[]
| . as $t
| ($metrics[$t.id | tostring] // {}) as $m
| ($orgs[$t.organization_id | tostring] // null) as $org
| {
    external_id: "zendesk:\($t.id)",
    kind: ($t | kind_of),
    customer: (if $org then {id: ($org.external_id // $org.name), name: $org.name} else {id: "unattributed"} end),
    title: $t.subject,
    body: ([$t.description // ""]
           + (if ($t.followup_ids // []) | length > 0
              then ["Linked Zendesk tickets: " + ($t.followup_ids | map(tostring) | join(", "))] else [] end)
           | join("\n\n")),
    source: (if $t.via.channel == "email" then "email" else "api" end),
    priority: ($t.priority // "normal"),
    requester: ($users[$t.requester_id | tostring].email // ""),
    created_at: $t.created_at
  }
  + (teams[$groups[$t.group_id | tostring] // ""] as $team | if $team then {owner: $team} else {} end)
  + {history: (
      [ (if $m.reply_time_in_minutes.calendar != null
         then {at: ($t.created_at | plus_minutes($m.reply_time_in_minutes.calendar)), type: "respond"} else empty end),
        (if $t.status == "pending" or $t.status == "hold" then {at: $t.updated_at, type: "pend"} else empty end),
        (if ($t.status == "solved" or $t.status == "closed") and $m.solved_at != null
         then {at: $m.solved_at, type: "resolve"} else empty end) ]
      | sort_by(.at))}

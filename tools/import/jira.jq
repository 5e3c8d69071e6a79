# Jira issue export -> Switchboard import lines (README "Importing tickets").
#
#   jq -c -f tools/import/jira.jq issues.json > tickets.jsonl
#
# The export is Jira's search answer (GET /rest/api/2/search?jql=...&fields=*all, pages
# concatenated into one {"issues": [...]}), comments included.
#
# Each issue becomes one line: created; "respond" at the first comment by someone other than the
# reporter (the support side's first answer); "resolve" at resolutiondate. Actions carry no actor:
# the server names the importer, in the role that owns the request. Sub-tasks and issue links are
# not imported (their keys go into the body).
#
# Edit these for your instance:
#   customers: project key -> Switchboard customer id (Jira has no customer field; a project not
#     listed files under "unattributed"). The customer directory must know each id.
#   teams: project key -> Switchboard team (a project not listed: the rules decide).
#   kind_of, priority_of: how issue types and priorities map.
def customers: {"ACME": "acme"};
def teams: {"ACME": "se"};

def kind_of: if . == "Bug" or . == "Incident" then "troubleshooting"
             elif . == "Story" or . == "New Feature" or . == "Improvement" then "feature_request"
             else "how_to" end;
def priority_of: {"Highest": "urgent", "High": "high", "Medium": "normal", "Low": "low", "Lowest": "low"}[.] // "normal";

# Jira's "2026-03-02T17:04:00.000+0100" as RFC 3339 UTC ("2026-03-02T16:04:00Z").
def utc: (.[0:19] + "Z" | fromdateiso8601) as $local
       | (sub("^.{19}(\\.[0-9]+)?"; "")) as $offset
       | (if $offset == "" or $offset == "Z" then 0
          else ($offset | sub(":"; "")) as $o
               | ($o[1:3] | tonumber) * 3600 + ($o[3:5] | tonumber) * 60 | if $o[0:1] == "-" then -. else . end
          end) as $shift
       | $local - $shift | todateiso8601;

.issues[]
| .fields as $f
| ($f.reporter.accountId // null) as $reporter
| {
    external_id: "jira:\(.key)",
    kind: ($f.issuetype.name | kind_of),
    customer: {id: (customers[$f.project.key] // "unattributed")},
    title: $f.summary,
    body: ([$f.description // ""]
           + (if (($f.subtasks // []) + ($f.issuelinks // [])) | length > 0
              then ["Linked Jira issues: " + ((($f.subtasks // []) | map(.key))
                                               + (($f.issuelinks // []) | map((.outwardIssue // .inwardIssue).key))
                                               | join(", "))] else [] end)
           | join("\n\n")),
    source: "api",
    priority: ($f.priority.name | priority_of),
    requester: ($f.reporter.emailAddress // ""),
    created_at: ($f.created | utc)
  }
  + (teams[$f.project.key] as $team | if $team then {owner: $team} else {} end)
  + {history: (
      [ ([($f.comment.comments // [])[] | select(.author.accountId != $reporter)] | first
         | if . then {at: (.created | utc), type: "respond"} else empty end),
        (if $f.resolutiondate then {at: ($f.resolutiondate | utc), type: "resolve"} else empty end) ]
      | sort_by(.at))}

#!/usr/bin/env bash
# A live filing's latency while the largest import body allowed is replayed (README "Importing
# tickets"; issue 14 §4, the breaker's finding 5: one 8 MB body of 120,000 history entries held
# every write for about 30 s).
#
# On a fresh database of the shipped config, for each body shape, one run after another:
#   actions: 5 tickets of 1000 history entries each (5000 in all, the per-body limit);
#   lines:   1000 tickets of 5 entries each (the line limit, 5000 entries);
# curl POSTs the body to /v1/import in the background and, while it runs, files one request
# after another (POST /v1/requests, a CE token) and times each. The table gives the import's
# time, how many filings were answered while it ran, their median and their slowest, and the
# slowest filing's time with no import running (the baseline, from the same server). The target:
# the slowest filing during an import under 3 s.
#
# Environment: those of common.sh (RUNS, BUILD, SERVER, SWITCHBOARD_BENCH_REPORT_ONLY=1).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
work=$build/bench/import_stall
mkdir -p "$work"
rm -f "$work"/*.result

command -v curl >/dev/null || apt_install curl
build_targets $(server_target)
make_token "$work"
admin_token=bench-admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '[[token]]\nperson = "bench-admin"\nrole = "admin"\nsha256 = "%s"\n' \
  "$(printf '%s' "$admin_token" | sha256sum | cut -d' ' -f1)" >>"$work/tokens.toml"

server_pid=
cleanup() {
  [ -n "$server_pid" ] && stop_pid "$server_pid"
  return 0
}
trap cleanup EXIT

# body FILE TICKETS ENTRIES PREFIX: an import body, each ticket answered, then pended and
# replied to in turn, a minute apart.
body() {
  python3 - "$@" <<'EOF'
import datetime, json, sys
path, tickets, entries, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
start = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=datetime.timezone.utc)
with open(path, "w") as out:
    for t in range(tickets):
        history = []
        for e in range(entries):
            at = (start + datetime.timedelta(minutes=e)).strftime("%Y-%m-%dT%H:%M:%SZ")
            history.append({"at": at, "type": "respond" if e == 0 else ("pend" if e % 2 else "customer_reply")})
        out.write(json.dumps({"external_id": f"{prefix}:{t}", "kind": "troubleshooting", "customer": {"id": "acme"},
                              "title": f"Imported {t}", "created_at": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                              "owner": "se", "history": history}, separators=(",", ":")) + "\n")
EOF
}

file_once() {
  curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' -X POST "$server_url/v1/requests" \
    -H "Authorization: Bearer $SWITCHBOARD_BENCH_TOKEN" -H 'Content-Type: application/json' \
    --data "{\"kind\":\"how_to\",\"customer\":{\"id\":\"acme\"},\"title\":\"live $RANDOM$RANDOM\"}"
}

shapes="actions:5:1000 lines:1000:5"
for run in $(seq 1 "$runs"); do
  echo "run $run of $runs ..." >&2
  rm -f "$work"/server.db*
  start_server server "$work/server.db"
  for _ in 1 2 3 4 5; do file_once; done | awk '$1 == 201 { print $2 }' | sort -g | tail -1 >>"$work/baseline.result"
  for shape in $shapes; do
    IFS=: read -r name tickets entries <<<"$shape"
    body "$work/$name.jsonl" "$tickets" "$entries" "$name-$run"
    started=$(date +%s%N)
    curl -sS -o "$work/$name.answer" -w '%{http_code}\n' -X POST "$server_url/v1/import" \
      -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/x-ndjson' \
      --data-binary @"$work/$name.jsonl" >"$work/$name.status" &
    import_pid=$!
    : >"$work/$name.filings"
    while kill -0 "$import_pid" 2>/dev/null; do file_once >>"$work/$name.filings"; done
    wait "$import_pid"
    took=$(awk -v s="$started" -v e="$(date +%s%N)" 'BEGIN { printf "%.2f", (e - s) / 1e9 }')
    status=$(cat "$work/$name.status")
    imported=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["imported"])' "$work/$name.answer" 2>/dev/null || echo 0)
    echo "  $name: import $status in ${took}s, $imported imported; filings: $(awk '{ print $1 }' "$work/$name.filings" | sort | uniq -c | tr '\n' ' ')" >&2
    [ "$status" = 200 ] && [ "$imported" = "$tickets" ] || { echo "bench: the import failed" >&2; cat "$work/$name.answer" >&2; exit 1; }
    echo "$took" >>"$work/$name-import.result"
    awk '$1 == 201 { n++ } END { print n + 0 }' "$work/$name.filings" >>"$work/$name-count.result"
    awk '$1 == 201 { print $2 }' "$work/$name.filings" | median >>"$work/$name-median.result"
    awk '$1 == 201 { print $2 }' "$work/$name.filings" | sort -g | tail -1 >>"$work/$name-max.result"
  done
  stop_pid "$server_pid"
  server_pid=
done

echo
echo "Import stall: $(machine), $runs run(s), medians"
printf '| body | import s | filings during it | filing median s | filing slowest s | target | |\n|---|---|---|---|---|---|---|\n'
for shape in $shapes; do
  name=${shape%%:*}
  slowest=$(median <"$work/$name-max.result")
  verdict "$(awk -v m="$slowest" 'BEGIN { print (m < 3) ? 1 : 0 }')"
  printf '| %s | %s | %s | %s | %s | < 3 s | %s |\n' "$name" "$(median <"$work/$name-import.result")" \
    "$(median <"$work/$name-count.result")" "$(median <"$work/$name-median.result")" "$slowest" "$mark"
done
printf '| (no import) | | | | %s | | |\n' "$(median <"$work/baseline.result")"
finish

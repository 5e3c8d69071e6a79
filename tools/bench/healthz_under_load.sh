#!/usr/bin/env bash
# GET /healthz latency while the server handles the heaviest input it accepts, against the same
# probe on an idle server (issue 11: /healthz p99 under 50 ms while the heaviest accepted input
# is processed). Starts the release server on a fresh database, then for each load:
#   idle      nothing else
#   raw-40MiB authenticated raw e-mails (message/rfc822) just under the 40 MiB limit, one after
#             another, each stored
#   json-40MiB Postmark JSON posts just under the 40 MiB limit (a 40 MiB TextBody), one after
#             another
# a probe (its own process: the load is curl) sends GET /healthz over one keep-alive connection
# every 10 ms, PROBES of them, while the load runs. RUNS runs (default 3); the table shows the
# medians of each run's p50, p99 and max, the failed probes and how the uploads were answered
# (a 201/200 means stored).
#
# Needs a release build (tools/dev build): BUILD (default build/) holds src/switchboard and
# tools/switchboard-cli. Environment: RUNS (3), PROBES (300 per load per run).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-$root/build}
runs=${RUNS:-3}
probes=${PROBES:-300}
server_bin=$build/src/switchboard
cli_bin=$build/tools/switchboard-cli
[ -x "$server_bin" ] && [ -x "$cli_bin" ] || { echo "build the server first: tools/dev build" >&2; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A token for the raw endpoint (the CLI prints it first, then the entry it appended); the config
# is the shipped one with the rules at their real path.
token=$("$cli_bin" token new --person bench-gateway --role integration --append "$work/tokens.toml" | head -n 1)
sed "s|rules = \"../rules/routing.toml\"|rules = \"$root/rules/routing.toml\"|" "$root/config/switchboard.toml" \
  >"$work/switchboard.toml"
export SWITCHBOARD_POSTMARK_PASSWORD=bench-password

"$server_bin" --config "$work/switchboard.toml" \
  --listen 127.0.0.1:0 --db "$work/switchboard.db" --tokens "$work/tokens.toml" \
  >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/server.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; exit 1; }
  sleep 0.1
done
port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/server.out")
[ -n "$port" ] || { echo "the server did not start" >&2; cat "$work/server.err" >&2; exit 1; }
url=http://127.0.0.1:$port

# The heaviest accepted inputs, written once: a raw e-mail and a Postmark JSON post, each a
# little under the 40 MiB e-mail limit. A unique Message-ID per post is set by sed on the fly.
python3 - "$work" <<'PY'
import json, sys
work, limit = sys.argv[1], 40 * 1024 * 1024
line = "The search cluster stopped answering after the upgrade; logs follow.\r\n"
head = ("From: bench@load.example\r\nTo: support@example.com\r\nSubject: heavy mail\r\n"
        "Message-ID: <MSGID@load.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
with open(f"{work}/heavy.eml", "w", newline="") as f:
    f.write(head + line * ((limit - len(head) - 65536) // len(line)))
text = "The search cluster stopped answering after the upgrade, logs follow. "
doc = {"From": "bench@load.example", "FromFull": {"Email": "bench@load.example", "Name": "Bench"},
       "To": "support@example.com", "Subject": "heavy json", "MessageID": "MSGID", "Headers": [],
       "TextBody": text * ((limit - 65536) // len(text))}
with open(f"{work}/heavy.json", "w") as f:
    json.dump(doc, f)
PY

# load NAME: posts that input again and again, one at a time, until $work/stop exists; logs
# each status. The upload in flight is let finish, so the next load starts on an idle server.
load() {
  local n=0
  while [ ! -e "$work/stop" ]; do
    n=$((n + 1))
    case $1 in
      raw-40MiB)
        sed "s/MSGID/heavy-$$-$RANDOM-$n/" "$work/heavy.eml" |
          curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $token" \
            -H 'Content-Type: message/rfc822' -H 'Expect:' --data-binary @- "$url/v1/webhooks/email/raw" ;;
      json-40MiB)
        sed "s/MSGID/heavy-$$-$RANDOM-$n/" "$work/heavy.json" |
          curl -s -o /dev/null -w '%{http_code}\n' -u postmark:bench-password \
            -H 'Content-Type: application/json' -H 'Expect:' --data-binary @- "$url/v1/webhooks/email/postmark" ;;
    esac
  done
}

# probe COUNT: GET /healthz every 10 ms over one keep-alive connection; prints the latencies
# (ms, one a line) and "failed N".
probe() {
  python3 - "$port" "$1" <<'PY'
import http.client, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
failed = 0
for _ in range(count):
    t = time.perf_counter()
    try:
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        if r.status != 200:
            failed += 1
            continue
    except Exception:
        failed += 1
        c.close()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        continue
    print(f"{(time.perf_counter() - t) * 1000:.3f}")
    time.sleep(0.01)
print(f"failed {failed}")
PY
}

loads=(idle raw-40MiB json-40MiB)
for run in $(seq "$runs"); do
  for name in "${loads[@]}"; do
    loader=
    rm -f "$work/stop"
    if [ "$name" != idle ]; then
      load "$name" >"$work/statuses-$name-$run" 2>/dev/null &
      loader=$!
      # The first upload is being read or handled before probing starts.
      sleep 1
    fi
    probe "$probes" >"$work/probe-$name-$run"
    if [ -n "$loader" ]; then
      touch "$work/stop"
      wait "$loader" 2>/dev/null || true
    fi
  done
done

python3 - "$work" "$runs" "$probes" "${loads[@]}" <<'PY'
import statistics, sys
work, runs, probes, loads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
print(f"/healthz latency over one keep-alive connection, {probes} probes per load per run, medians of {runs} runs")
print(f"{'load':12} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'failed':>7}  uploads answered (all runs)")
for name in loads:
    rows, failed, answered = [], 0, {}
    for run in range(1, runs + 1):
        lines = open(f"{work}/probe-{name}-{run}").read().split()
        failed += int(lines[-1])
        values = [float(v) for v in lines[:-2]]
        rows.append((pct(values, 50), pct(values, 99), max(values)))
        if name != "idle":
            for status in open(f"{work}/statuses-{name}-{run}").read().split():
                answered[status] = answered.get(status, 0) + 1
    med = lambda i: statistics.median(r[i] for r in rows)
    print(f"{name:12} {med(0):8.2f} {med(1):8.2f} {med(2):8.2f} {failed:7d}  "
          f"{', '.join(f'{k}: {v}' for k, v in sorted(answered.items())) or '-'}")
PY

#!/usr/bin/env bash
# Flat as the data grows (issue 11 §2): the server with SWITCHBOARD_BENCH_ROWS requests stored
# (default 1,000,000, every one open with running SLA clocks) against the server on an empty
# database, in the same run.
#
#   filing rate (wrk POST /v1/requests, SCALE_CONNECTIONS connections) with N stored
#     vs on an empty database                                        target: within 20 %
#   GET /v1/sla/timers?limit=100 p99 with N stored                   target: < 10 ms
#     ("n/a (no paging)" when the server refuses ?limit=, 422)
#   GET /v1/requests?team=se&status=open&limit=50 p99 with N stored  target: < 10 ms
#   restart (launch to /healthz 200) with N's open clocks            target: < 10 s
#   memory per open clock: (RSS after start with N) - (RSS after start empty), / open clocks
#                                                                    target: < 1 KiB
# Any answer other than 2xx (a 503 from a limit, a 4xx) fails the table: it measured refusals.
#
# tools/bench/seed writes the N requests as the server stores them (32 requests filed through
# the store's code, then copies of their rows under new ids), at a fixed instant; every server
# here runs on a simulated clock starting shortly after it (--clock-start), so no clock falls due
# while it is measured and the runs are alike whenever they happen.
#
# Environment: SWITCHBOARD_BENCH_ROWS (default 1000000), SCALE_CONNECTIONS (filing, default 32),
# READ_CONNECTIONS (GETs, default 4), SWITCHBOARD_BENCH_REUSE_SEED=1 (keep a seeded database of
# the same N from an earlier run), and those of common.sh: RUNS, DURATION, BUILD,
# SWITCHBOARD_BENCH_REPORT_ONLY=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rows=${SWITCHBOARD_BENCH_ROWS:-1000000}
filing_connections=${SCALE_CONNECTIONS:-32}
read_connections=${READ_CONNECTIONS:-4}
seeded_at=2026-11-02T17:00:00Z   # a Monday, 09:00 in Los Angeles: inside support hours
clock_start=2026-11-02T17:02:00Z
work=$build/bench/scale
mkdir -p "$work"
rm -f "$work"/*.result "$work/wrk.err"

ensure_wrk
command -v sqlite3 >/dev/null || apt_install sqlite3
build_targets $(server_target) seed
make_token "$work"

seeded=$work/seeded.db
seed_database "$seeded" "$rows" "$seeded_at"
open_clocks=$(sqlite3 "$seeded" 'SELECT COUNT(*) FROM clocks WHERE open = 1')

server_pid=
cleanup() {
  [ -n "$server_pid" ] && stop_pid "$server_pid"
  return 0
}
trap cleanup EXIT

# p99 of wrk GETs on PATH, or "refused STATUS" when the server does not answer 200.
read_p99() {
  local target=$1 status
  status=$(curl -s -o "$work/get.body" -w '%{http_code}' -H "Authorization: Bearer $SWITCHBOARD_BENCH_TOKEN" \
    "$server_url$target")
  if [ "$status" != 200 ]; then
    echo "refused $status"
    return
  fi
  local line
  line=$(run_wrk get.lua "$read_connections" "$server_url$target")
  echo "$line" | field non2xx >>"$work/refused.result"
  echo "$line" | field p99_ms
}

# The server refuses a --clock-start before the newest stored event, and every run files on the
# seeded database: each run starts its clock at the later of clock_start and a second after that.
seeded_clock_start() {
  local newest start
  newest=$(sqlite3 "$seeded" 'SELECT COALESCE(MAX(at), 0) FROM events')
  start=$(date -u -d "$clock_start" +%s)
  [ "$newest" -ge "$start" ] && start=$((newest + 1))
  date -u -d "@$start" +%Y-%m-%dT%H:%M:%SZ
}

for run in $(seq 1 "$runs"); do
  echo "run $run of $runs ..." >&2
  rm -f "$work"/empty.db*
  start_server empty "$work/empty.db" --clock-start "$clock_start"
  wait_healthy "$server_url" 60
  rss_kib "$server_pid" >>"$work/rss-empty.result"
  line=$(run_wrk file_request.lua "$filing_connections" "$server_url")
  echo "  filing, empty:  $line" >&2
  echo "$line" | field rate >>"$work/filing-empty.result"
  echo "$line" | field non201 >>"$work/refused.result"
  stop_pid "$server_pid"
  server_pid=

  start_server seeded "$seeded" --clock-start "$(seeded_clock_start)"
  wait_healthy "$server_url" "${SERVER_START_TIMEOUT:-900}"
  echo "$server_started_ns $(date +%s%N)" | awk '{ printf "%.3f\n", ($2 - $1) / 1e9 }' >>"$work/restart.result"
  echo "  restart with $open_clocks open clocks: $(tail -1 "$work/restart.result") s" >&2
  rss_kib "$server_pid" >>"$work/rss-seeded.result"
  line=$(run_wrk file_request.lua "$filing_connections" "$server_url")
  echo "  filing, seeded: $line" >&2
  echo "$line" | field rate >>"$work/filing-seeded.result"
  echo "$line" | field non201 >>"$work/refused.result"
  timers=$(read_p99 '/v1/sla/timers?limit=100')
  echo "  timers p99: $timers" >&2
  echo "$timers" >>"$work/timers.result"
  listed=$(read_p99 '/v1/requests?team=se&status=open&limit=50')
  echo "  requests p99: $listed" >&2
  echo "$listed" >>"$work/requests.result"
  stop_pid "$server_pid"
  server_pid=
done

med() { median <"$work/$1.result"; }
# A p99 column: the median, or what the server answered instead.
p99_cell() {
  local refused
  refused=$(grep -m1 '^refused' "$work/$1.result" || true)
  if [ -n "$refused" ]; then echo "$refused"; else printf '%.2f ms' "$(med "$1")"; fi
}

echo
echo "scale benchmark: $(machine)"
echo "$rows requests stored ($open_clocks open clocks); medians of $runs interleaved runs of ${duration} s"
echo
echo "| measure | with $rows stored | empty database | ratio | target | |"
echo "| --- | --- | --- | --- | --- | --- |"
full=$(med filing-seeded)
empty=$(med filing-empty)
# A run with refusals (a 503 or a 4xx) did not measure filing or reading: the table fails.
refused=$(awk '{ s += $1 } END { print s + 0 }' "$work/refused.result")
[ "$refused" != 0 ] && echo "$refused answers were not 2xx (see the runs above): the rates and p99s below count refusals"
ok=$(awk -v a="$full" -v b="$empty" 'BEGIN { print (a / b >= 0.8) ? 1 : 0 }')
[ "$refused" != 0 ] && ok=0
verdict "$ok"
printf '| filing rate, %s connections | %.0f req/s | %.0f req/s | %.1f %% | >= 80 %% | %s |\n' \
  "$filing_connections" "$full" "$empty" "$(awk -v a="$full" -v b="$empty" 'BEGIN { print 100 * a / b }')" "$mark"

if grep -q '^refused 422' "$work/timers.result"; then
  printf '| GET /v1/sla/timers?limit=100 p99, %s connections | n/a (no paging) | | | < 10 ms | n/a |\n' "$read_connections"
else
  cell=$(p99_cell timers)
  verdict "$(case $cell in refused*) echo 0 ;; *) awk -v p="$(med timers)" 'BEGIN { print (p < 10) ? 1 : 0 }' ;; esac)"
  printf '| GET /v1/sla/timers?limit=100 p99, %s connections | %s | | | < 10 ms | %s |\n' "$read_connections" "$cell" "$mark"
fi
cell=$(p99_cell requests)
verdict "$(case $cell in refused*) echo 0 ;; *) awk -v p="$(med requests)" 'BEGIN { print (p < 10) ? 1 : 0 }' ;; esac)"
printf '| GET /v1/requests?team=se&status=open&limit=50 p99, %s connections | %s | | | < 10 ms | %s |\n' \
  "$read_connections" "$cell" "$mark"

restart=$(med restart)
verdict "$(awk -v s="$restart" 'BEGIN { print (s < 10) ? 1 : 0 }')"
printf '| restart to /healthz 200 | %.2f s | | | < 10 s | %s |\n' "$restart" "$mark"

rss_full=$(med rss-seeded)
rss_empty=$(med rss-empty)
per_clock=$(awk -v a="$rss_full" -v b="$rss_empty" -v n="$open_clocks" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }')
verdict "$(awk -v p="$per_clock" 'BEGIN { print (p < 1024) ? 1 : 0 }')"
printf '| memory per open clock | %s B (RSS %.0f MiB) | RSS %.0f MiB | | < 1024 B | %s |\n' \
  "$per_clock" "$(awk -v k="$rss_full" 'BEGIN { print k / 1024 }')" "$(awk -v k="$rss_empty" 'BEGIN { print k / 1024 }')" "$mark"
[ "$refused" != 0 ] && missed=1
echo
finish

#!/usr/bin/env bash
# Durable ingest against raw SQLite, and GET /healthz against a bare Beast server (issue 11 §2).
#
# Filing: wrk POSTs troubleshooting requests (file_request.lua: unique titles, a CE bearer
# token) to the real server on a fresh database; each 201 means routed, clocks started and
# committed. Baseline in the same run: raw_insert writes the same rows a filing writes straight
# into SQLite (WAL, synchronous = FULL) in transactions of as many filings as there are
# connections, the batch group commit makes. Health: wrk GETs /healthz on the server and on
# bare_beast (a minimal Beast server on as many I/O threads). Runs are interleaved (server,
# raw, ... per run); the table gives medians and the ratios against the targets:
#   ingest >= 50 % of raw at each concurrency, p99 < 20 ms at 32 connections, /healthz >= 80 %.
# Two ratios each: the ratio of the medians, and the median of the runs' paired ratios (each run
# measures the server and its baseline back to back at the same concurrency, so its ratio cancels
# the machine's drift between runs: raw SQLite at one connection moved from 994 to 1746/s between
# two runs of one quiet session). The targets are checked on the paired ratio.
# A row fails when any answer was not 201 (2xx for /healthz): a refusal is not an ingest. The
# server runs with max_connections_per_client = 0 (common.sh's server_config), since every wrk
# connection comes from 127.0.0.1.
#
# Environment: CONNECTIONS (default "1 32 128"), HEALTH_CONNECTIONS (default 32), POSTGRES=1 (then
# run ingest_postgres.sh: PostgreSQL beside SQLite, one and three instances), and those of
# common.sh: RUNS, DURATION, BUILD, SWITCHBOARD_BENCH_REPORT_ONLY=1 (exit 0 on a miss).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
connections=${CONNECTIONS:-"1 32 128"}
health_connections=${HEALTH_CONNECTIONS:-32}
work=$build/bench/ingest
mkdir -p "$work"
rm -f "$work"/*.result "$work/wrk.err"

ensure_wrk
build_targets $(server_target) raw_insert bare_beast
make_token "$work"
io_threads=$(sed -n 's/^io_threads *= *\([0-9]*\).*/\1/p' "$config" | head -1)
[ -n "$io_threads" ] && [ "$io_threads" != 0 ] || io_threads=$(nproc)

server_pid=
bare_pid=
cleanup() {
  [ -n "$server_pid" ] && stop_pid "$server_pid"
  [ -n "$bare_pid" ] && stop_pid "$bare_pid"
  return 0
}
trap cleanup EXIT

# One run's ratio of a rate to its baseline's (0 when the baseline measured nothing).
paired_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f\n", (b > 0) ? a / b : 0 }'; }

for run in $(seq 1 "$runs"); do
  echo "run $run of $runs ..." >&2
  rm -f "$work"/server.db*
  start_server server "$work/server.db"
  for c in $connections; do
    line=$(run_wrk file_request.lua "$c" "$server_url")
    echo "  ingest c=$c: $line" >&2
    echo "$line" | field rate >>"$work/ingest-$c.result"
    echo "$line" | field p99_ms >>"$work/p99-$c.result"
    echo "$line" | field non201 >>"$work/non201-$c.result"
    raw=$("$build/tools/raw_insert" "$config" "$work/raw.db" "$c" "$duration")
    echo "  raw    c=$c: $raw" >&2
    echo "$raw" | awk '{ print $2 }' >>"$work/raw-$c.result"
    paired_ratio "$(echo "$line" | field rate)" "$(echo "$raw" | awk '{ print $2 }')" >>"$work/pair-$c.result"
  done
  line=$(run_wrk get.lua "$health_connections" "$server_url/healthz")
  echo "  healthz server: $line" >&2
  echo "$line" | field rate >>"$work/health-server.result"
  echo "$line" | field non2xx >>"$work/health-non2xx.result"
  stop_pid "$server_pid"
  server_pid=

  "$build/tools/bare_beast" "$io_threads" >"$work/bare.out" 2>&1 &
  bare_pid=$!
  wait_listening "$work/bare.out" "$bare_pid" 30
  line=$(run_wrk get.lua "$health_connections" "$listening_url/healthz")
  echo "  healthz bare:   $line" >&2
  echo "$line" | field rate >>"$work/health-bare.result"
  paired_ratio "$(tail -1 "$work/health-server.result")" "$(echo "$line" | field rate)" >>"$work/health-pair.result"
  echo "$line" | field non2xx >>"$work/health-non2xx.result"
  stop_pid "$bare_pid"
  bare_pid=
done

med() { median <"$work/$1.result"; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f %%", 100 * a / b }'; }
at_least() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t) ? 1 : 0 }'; }
# The runs' paired ratios, in per cent, as the run order gave them.
pairs() { awk '{ printf "%s%.0f", (NR > 1 ? ", " : ""), 100 * $1 }' "$work/$1.result"; }

echo
echo "ingest benchmark: $(machine)"
echo "medians of $runs interleaved runs of ${duration} s; the server on ${io_threads} I/O thread(s), max_connections_per_client = 0"
echo "(every wrk connection comes from 127.0.0.1); a row with any answer other than 201 fails"
echo "ratio: of the medians; paired: the median of each run's own ratio (server and baseline back"
echo "to back at the same concurrency: the machine's drift between runs cancels); targets are checked on paired"
echo
echo "| measure | connections | Switchboard | baseline | ratio | paired (per run) | target | |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for c in $connections; do
  ours=$(med "ingest-$c")
  raw=$(med "raw-$c")
  p99=$(med "p99-$c")
  bad=$(awk '{ s += $1 } END { print s + 0 }' "$work/non201-$c.result")
  note=""
  [ "$bad" != 0 ] && note=" ($bad answers not 201)"
  # A run with refusals (503s, 4xx) did not measure durable ingest: the row fails, whatever its rate.
  paired=$(med "pair-$c")
  ok=$(at_least "$paired" 0.5)
  [ "$bad" != 0 ] && ok=0
  verdict "$ok"
  printf '| POST /v1/requests vs raw SQLite (batch %s) | %s | %.0f req/s, p99 %.1f ms%s | %.0f filings/s | %s | %s (%s) | >= 50 %% | %s |\n' \
    "$c" "$c" "$ours" "$p99" "$note" "$raw" "$(pct "$ours" "$raw")" "$(pct "$paired" 1)" "$(pairs "pair-$c")" "$mark"
  if [ "$c" = 32 ]; then
    ok=$(awk -v p="$p99" 'BEGIN { print (p < 20) ? 1 : 0 }')
    [ "$bad" != 0 ] && ok=0
    verdict "$ok"
    printf '| POST /v1/requests p99 | 32 | %.1f ms | | | | < 20 ms | %s |\n' "$p99" "$mark"
  fi
done
server=$(med health-server)
bare=$(med health-bare)
bad=$(awk '{ s += $1 } END { print s + 0 }' "$work/health-non2xx.result")
note=""
[ "$bad" != 0 ] && note=" ($bad answers not 2xx)"
paired=$(med health-pair)
ok=$(at_least "$paired" 0.8)
[ "$bad" != 0 ] && ok=0
verdict "$ok"
printf '| GET /healthz vs bare Beast | %s | %.0f req/s%s | %.0f req/s | %s | %s (%s) | >= 80 %% | %s |\n' \
  "$health_connections" "$server" "$note" "$bare" "$(pct "$server" "$bare")" "$(pct "$paired" 1)" "$(pairs health-pair)" "$mark"
echo
# POSTGRES=1: PostgreSQL's rows (one and three instances) beside SQLite's, a table of their own.
if [ "${POSTGRES:-0}" = 1 ]; then "$here/ingest_postgres.sh" || missed=1; fi
finish

#!/usr/bin/env bash
# CPU per GET /healthz answer, the server against bare_beast (issue 11 §2: /healthz >= 80 % of a
# bare Beast server). Throughput on a shared machine moves with whatever else runs; the CPU a
# process spends per answer moves far less. For each of PAIRS pairs, run in turn (A/B/A/B, pinned
# to nothing): bare_beast, then the server on a fresh database, each on as many I/O threads as
# the config's io_threads (default: cores), each under `wrk -c CONNECTIONS -d DURATION`; the
# process's utime + stime (/proc/PID/stat, all its threads: I/O, writer, access log) around the
# wrk run, divided by the answers wrk counted. Prints each run, the medians, and the server's
# median over bare Beast's (the target, 80 % of bare Beast's rate at equal CPU, is <= 1.25x;
# this project asks <= 1.2x for headroom). Exits 0 whatever the figures (a report, not a gate:
# ingest.sh is the gate), 1 when any answer was not 2xx.
#
# Environment: PAIRS (default 3), CONNECTIONS (32), DURATION (seconds per wrk run, default 5),
# SERVERS (several servers in each round, after bare Beast, e.g. to compare two commits:
# "main=/work/main/build/src/switchboard new=build/src/switchboard"; default: the one server),
# and those of common.sh: BUILD, SERVER.
set -euo pipefail
DURATION=${DURATION:-5}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
pairs=${PAIRS:-3}
connections=${CONNECTIONS:-32}
work=$build/bench/healthz_cpu
mkdir -p "$work"
rm -f "$work"/*.result "$work/wrk.err"

ensure_wrk
if [ -n "${SERVERS:-}" ]; then build_targets bare_beast; else build_targets $(server_target) bare_beast; fi
servers=${SERVERS:-"server=$(server_bin)"}
make_token "$work"
io_threads=$(sed -n 's/^io_threads *= *\([0-9]*\).*/\1/p' "$config" | head -1)
[ -n "$io_threads" ] && [ "$io_threads" != 0 ] || io_threads=$(nproc)
ticks=$(getconf CLK_TCK)

server_pid=
bare_pid=
cleanup() {
  [ -n "$server_pid" ] && stop_pid "$server_pid"
  [ -n "$bare_pid" ] && stop_pid "$bare_pid"
  return 0
}
trap cleanup EXIT

# cpu_ticks PID: utime + stime of the whole process (fields 14 and 15, counted after the
# parenthesised command name, which may hold spaces).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# measure NAME PID URL: one wrk run; appends "µs per answer" and the rate to NAME's results.
measure() {
  local name=$1 pid=$2 url=$3 before after line requests non2xx rate us
  before=$(cpu_ticks "$pid")
  line=$(run_wrk get.lua "$connections" "$url/healthz")
  after=$(cpu_ticks "$pid")
  requests=$(echo "$line" | field requests)
  non2xx=$(echo "$line" | field non2xx)
  rate=$(echo "$line" | field rate)
  us=$(awk -v d="$((after - before))" -v t="$ticks" -v n="$requests" 'BEGIN { printf "%.2f", d * 1e6 / t / n }')
  echo "  $name: $us us/answer, $rate req/s, $requests answers, non2xx=$non2xx, load $(cut -d' ' -f1 /proc/loadavg)" >&2
  echo "$us" >>"$work/$name-us.result"
  echo "$rate" >>"$work/$name-rate.result"
  echo "$non2xx" >>"$work/non2xx.result"
}

for pair in $(seq 1 "$pairs"); do
  echo "pair $pair of $pairs ..." >&2
  "$build/tools/bare_beast" "$io_threads" >"$work/bare.out" 2>&1 &
  bare_pid=$!
  wait_listening "$work/bare.out" "$bare_pid" 30
  measure bare "$bare_pid" "$listening_url"
  stop_pid "$bare_pid"
  bare_pid=

  for named in $servers; do
    rm -f "$work"/server.db*
    SERVER=${named#*=} start_server "${named%%=*}" "$work/server.db"
    wait_healthy "$server_url" 30
    measure "${named%%=*}" "$server_pid" "$server_url"
    stop_pid "$server_pid"
    server_pid=
  done
done

med() { median <"$work/$1.result"; }
bare_us=$(med bare-us)
bad=$(awk '{ s += $1 } END { print s + 0 }' "$work/non2xx.result")
echo
echo "healthz CPU benchmark: $(machine)"
echo "medians of $pairs alternating rounds of ${duration} s runs (bare Beast, then each server), wrk -c $connections;"
echo "$io_threads I/O thread(s) each"
echo
echo "| server | CPU per GET /healthz | bare Beast | server / bare | rate | bare Beast | rate ratio |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for named in $servers; do
  name=${named%%=*}
  awk -v n="$name" -v s="$(med "$name-us")" -v b="$bare_us" -v sr="$(med "$name-rate")" -v br="$(med bare-rate)" \
    'BEGIN { printf "| %s | %.1f us | %.1f us | %.2fx | %.0f req/s | %.0f req/s | %.1f %% |\n", n, s, b, s / b, sr, br, 100 * sr / br }'
done
echo
echo "per run (us/answer): bare $(paste -sd' ' "$work/bare-us.result")"
for named in $servers; do
  echo "  ${named%%=*} $(paste -sd' ' "$work/${named%%=*}-us.result")"
done
if [ "$bad" != 0 ]; then
  echo "$bad answers were not 2xx"
  exit 1
fi

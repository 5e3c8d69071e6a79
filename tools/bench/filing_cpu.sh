#!/usr/bin/env bash
# CPU and latency per filing at one connection, for comparing server builds on a shared machine
# (issue 11 §2: durable ingest at one connection >= 50 % of raw SQLite). At one connection every
# filing waits for its own fsync, so the rate moves with the disk and whatever else runs; the CPU
# the process spends per filing (utime + stime from /proc/PID/stat, all its threads) moves far
# less, and the median latency (wrk's p50) shows what the thread hops and the fsync add. For each
# of ROUNDS rounds, each server in turn on a fresh database under `wrk -c 1 -d DURATION`
# (file_request.lua). Prints each run, the medians, and each server's medians over the first's.
# Exits 0 whatever the figures (a report: ingest.sh is the gate), 1 when any answer was not 201.
#
# Environment: SERVERS ("name=binary ...", default: the one server of common.sh), ROUNDS
# (default 5), DURATION (seconds per run, default 5), CONNECTIONS (default 1), and those of
# common.sh: BUILD, SERVER.
set -euo pipefail
DURATION=${DURATION:-5}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rounds=${ROUNDS:-5}
connections=${CONNECTIONS:-1}
work=$build/bench/filing_cpu
mkdir -p "$work"
rm -f "$work"/*.result "$work/wrk.err"

ensure_wrk
[ -n "${SERVERS:-}" ] || build_targets $(server_target)
servers=${SERVERS:-"server=$(server_bin)"}
make_token "$work"
ticks=$(getconf CLK_TCK)

server_pid=
cleanup() {
  [ -n "$server_pid" ] && stop_pid "$server_pid"
  return 0
}
trap cleanup EXIT

# cpu_ticks PID: utime + stime of the whole process (fields 14 and 15).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds ..." >&2
  for named in $servers; do
    name=${named%%=*}
    rm -f "$work"/server.db*
    SERVER=${named#*=} start_server "$name" "$work/server.db"
    wait_healthy "$server_url" 30
    before=$(cpu_ticks "$server_pid")
    line=$(run_wrk file_request.lua "$connections" "$server_url")
    after=$(cpu_ticks "$server_pid")
    stop_pid "$server_pid"
    server_pid=
    requests=$(echo "$line" | field requests)
    us=$(awk -v d="$((after - before))" -v t="$ticks" -v n="$requests" 'BEGIN { printf "%.1f", d * 1e6 / t / n }')
    echo "  $name: $us us CPU/filing, $line, load $(cut -d' ' -f1 /proc/loadavg)" >&2
    echo "$us" >>"$work/$name-us.result"
    echo "$line" | field p50_ms >>"$work/$name-p50.result"
    echo "$line" | field rate >>"$work/$name-rate.result"
    echo "$line" | field non201 >>"$work/non201.result"
  done
done

med() { median <"$work/$1.result"; }
first=${servers%% *}
first=${first%%=*}
bad=$(awk '{ s += $1 } END { print s + 0 }' "$work/non201.result")
echo
echo "filing CPU benchmark: $(machine)"
echo "medians of $rounds rounds of ${duration} s runs (each server in turn, fresh database), wrk -c $connections"
echo
echo "| server | CPU per filing | vs $first | p50 latency | vs $first | rate |"
echo "| --- | --- | --- | --- | --- | --- |"
for named in $servers; do
  name=${named%%=*}
  awk -v n="$name" -v u="$(med "$name-us")" -v u0="$(med "$first-us")" -v p="$(med "$name-p50")" \
    -v p0="$(med "$first-p50")" -v r="$(med "$name-rate")" \
    'BEGIN { printf "| %s | %.1f us | %.2fx | %.3f ms | %.2fx | %.0f filings/s |\n", n, u, u / u0, p, p / p0, r }'
done
echo
for named in $servers; do
  echo "per run ${named%%=*}: CPU us $(paste -sd' ' "$work/${named%%=*}-us.result"); p50 ms $(paste -sd' ' "$work/${named%%=*}-p50.result")"
done
if [ "$bad" != 0 ]; then
  echo "$bad answers were not 201"
  exit 1
fi

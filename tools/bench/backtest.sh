#!/usr/bin/env bash
# Times `switchboard-cli backtest` (issue 15 W10, first cut) on a seeded history: tools/bench/seed
# files N requests (SWITCHBOARD_BENCH_ROWS, default 20000) as the server stores them, a second
# apart, then the CLI replays them RUNS times (default 3) under two proposals: the same config
# ("unchanged", the baseline of the same run) and the config with one more holiday on the first
# seeded day ("holiday"). Prints each run's wall time, the medians, requests replayed per second
# and the ratio holiday/unchanged.
#
# What it does not measure yet: seeded requests are filings only (no people's actions, no
# pauses, reopens or concerns), a second apart for 32 templates then copied under further ids, and the record ends at
# the last one, so almost nothing falls due in the replay and the holiday changes no outcome: this
# times the read, the two sides' filing decisions and the comparison, with the process start. The
# plan's 100,000 requests over 13 weeks with 0-12 actions each (W10's backtest_bench.cpp) is later
# work.
#
# Environment: SWITCHBOARD_BENCH_ROWS, RUNS, BUILD (default build), KEEP (a seeded database to
# reuse; made there when missing).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-$root/build}
rows=${SWITCHBOARD_BENCH_ROWS:-20000}
runs=${RUNS:-3}
cli=$build/tools/switchboard-cli
seed=$build/tools/seed
for binary in "$cli" "$seed"; do
  [ -x "$binary" ] || { echo "backtest.sh: $binary is missing; cmake --build $build --target switchboard-cli seed" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=${KEEP:-$work/bench.db}
if [ ! -f "$db" ]; then
  "$seed" "$root/config/switchboard.toml" "$db" "$rows" 2026-11-02T17:00:00Z
fi

# The proposal: the shipped config with 2026-11-02 (the seeded day) a holiday, its rules where
# the shipped config finds them.
proposed=$work/holiday.toml
sed -e "s|^rules = \"../rules/routing.toml\"|rules = \"$root/rules/routing.toml\"|" \
    -e 's|^holidays = \[|holidays = [\n  "2026-11-02",|' "$root/config/switchboard.toml" > "$proposed"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

time_one() {  # prints the wall seconds of one backtest against $1; checks its request count
  local start end requests
  start=$(date +%s.%N)
  requests=$("$cli" backtest --db "$db" --current "$root/config/switchboard.toml" --config "$1" --json |
             python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"])')
  end=$(date +%s.%N)
  [ "$requests" -gt 0 ] || { echo "backtest.sh: no request replayed" >&2; exit 1; }
  echo "$requests" > "$work/requests"
  echo "$end - $start" | bc -l
}

declare -A medians
for proposal in unchanged holiday; do
  config=$root/config/switchboard.toml
  [ "$proposal" = holiday ] && config=$proposed
  : > "$work/$proposal.times"
  for run in $(seq "$runs"); do
    t=$(time_one "$config")
    printf '%-10s run %d: %.2f s\n' "$proposal" "$run" "$t"
    echo "$t" >> "$work/$proposal.times"
  done
  medians[$proposal]=$(median < "$work/$proposal.times")
done
requests=$(cat "$work/requests")
printf '\n%-10s %10s %10s %16s\n' proposal requests "median s" "requests/s"
for proposal in unchanged holiday; do
  printf '%-10s %10d %10.2f %16.0f\n' "$proposal" "$requests" "${medians[$proposal]}" \
    "$(echo "$requests / ${medians[$proposal]}" | bc -l)"
done
printf 'ratio holiday/unchanged: %.2f\n' "$(echo "${medians[holiday]} / ${medians[unchanged]}" | bc -l)"

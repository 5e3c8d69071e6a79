#!/usr/bin/env bash
# Routing throughput (issue 11 §2): the shipped rules (rules/routing.toml, as the config names
# them) through Switchboard's evaluator (rules_bench) and through json-rules-engine (npm,
# jre_bench.js, which translates the same TOML mechanically), on the same RULES_N generated
# requests, interleaved, medians of RUNS. Target: ours >= 50x json-rules-engine. Every request
# must go to the same team in both engines: any mismatch is printed and fails the run.
#
# Environment: RULES_N (requests, default 20000), PASSES (passes of ours per run, default 20;
# json-rules-engine does one), and those of common.sh: RUNS, BUILD, SWITCHBOARD_BENCH_REPORT_ONLY=1
# (which does not excuse a mismatch).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
count=${RULES_N:-20000}
passes=${PASSES:-20}
work=$build/bench/rules
mkdir -p "$work"
rm -f "$work"/*.result

command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
if [ ! -d "$here/node_modules/json-rules-engine" ] || [ ! -d "$here/node_modules/smol-toml" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
build_targets rules_bench
bench=$build/tools/rules_bench
rules=$(sed -n 's/^rules *= *"\(.*\)".*/\1/p' "$config" | head -1)
rules=$(cd "$(dirname "$config")" && realpath "${rules:-../rules/routing.toml}")

"$bench" "$config" "$work" generate "$count"
for run in $(seq 1 "$runs"); do
  echo "run $run of $runs ..." >&2
  "$bench" "$config" "$work" run "$passes" | tee /dev/stderr | awk '{ print $2 }' >>"$work/ours.result"
  node "$here/jre_bench.js" "$rules" "$work" 1 | tee /dev/stderr | awk '{ print $2 }' >>"$work/jre.result"
done

ours=$(median <"$work/ours.result")
jre=$(median <"$work/jre.result")
ratio=$(awk -v a="$ours" -v b="$jre" 'BEGIN { printf "%.0f", a / b }')
mismatches=$(paste -d' ' "$work/ours.owners" "$work/jre.owners" | awk '$1 != $2' | wc -l)
routed=$(wc -l <"$work/ours.owners")

echo
echo "rules benchmark: $(machine)"
echo "$(basename "$rules") ($(grep -c '^\[\[rule\]\]' "$rules") rules and a fallback) on $count generated requests; medians of $runs interleaved runs"
echo "measured: routing only. Both engines route request objects already in memory (generating, reading and"
echo "parsing the requests is outside the timed loop): ours rules::evaluate on model::request_input, trace included,"
echo "text case-folded per call; json-rules-engine engine.run per request on the parsed JSON, text lower-cased per call."
echo
echo "| engine | requests routed/s | ratio | target | |"
echo "| --- | --- | --- | --- | --- |"
verdict "$(awk -v r="$ratio" 'BEGIN { print (r >= 50) ? 1 : 0 }')"
printf '| Switchboard (%s passes a run) | %.0f | x%s | >= x50 | %s |\n' "$passes" "$ours" "$ratio" "$mark"
printf '| json-rules-engine %s | %.0f | | | |\n' "$(node -p "require('$here/node_modules/json-rules-engine/package.json').version")" "$jre"
echo
echo "same team for $((routed - mismatches)) of $routed requests"
if [ "$mismatches" != 0 ]; then
  echo "MISMATCHES (line: ours jre request):"
  paste -d' ' "$work/ours.owners" "$work/jre.owners" | awk '$1 != $2 { print NR ": " $1 " " $2 }' | head -20 |
    while read -r n ours_team jre_team; do
      echo "$n $ours_team $jre_team $(sed -n "${n%:}p" "$work/requests.jsonl")"
    done
  echo "the engines disagree: failing whatever SWITCHBOARD_BENCH_REPORT_ONLY says"
  exit 1
fi
finish

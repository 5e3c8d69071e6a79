#!/usr/bin/env bash
# Benchmarks the business calendar (`support` from config/switchboard.toml) against the libraries
# people use for this today: moment-business-time + moment-timezone (npm) and Business::Hours
# (Debian's libbusiness-hours-perl, Request Tracker's library). Installs what is missing, builds
# tools/bench/calendar_bench, runs everything on the same seeded workload (100,000 add pairs:
# start in 2026, 0 to 3 business weeks; 100,000 between pairs: 0 to 21 days apart), prints each
# rate, the ratios ours/theirs (medians of several runs) and every class of difference.
#
# Environment: RUNS (peer runs, default 3), REPS (passes of ours per run, default 11),
# MBT_N (moment-business-time pairs per operation, default 100000), BH_ADD / BH_BETWEEN
# (Business::Hours sample sizes, default 200 / 5000: it is slow), BUILD (default build/ when it
# is a Release build, where only calendar_bench is built; else build-bench/).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ -n "${BUILD:-}" ]; then
  build=$BUILD
elif grep -qs '^CMAKE_BUILD_TYPE:STRING=Release$' "$root/build/CMakeCache.txt"; then
  build=$root/build
else
  build=$root/build-bench
fi
work=$build/calendar
runs=${RUNS:-3}
reps=${REPS:-11}
mbt_n=${MBT_N:-100000}
bh_add=${BH_ADD:-200}
bh_between=${BH_BETWEEN:-5000}
config=$root/config/switchboard.toml
mkdir -p "$work"

# One core per benchmark process, as in the research notes, when there is more than one.
pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -gt 1 ]; then pin=(taskset -c 1); fi

# --- 1. peers -------------------------------------------------------------------------------
apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
if [ ! -d "$here/node_modules/moment-business-time" ] || [ ! -d "$here/node_modules/moment-timezone" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
perl -MBusiness::Hours -e 1 2>/dev/null || apt_install libbusiness-hours-perl

# --- 2. build ---------------------------------------------------------------------------------
if grep -q calendar_bench "$root/tools/CMakeLists.txt"; then
  # Configure only a build folder that has never been configured: re-configuring an existing one
  # (with other options) would make the next build of it recompile everything.
  [ -f "$build/CMakeCache.txt" ] ||
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSWITCHBOARD_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" --target calendar_bench -j 2 >/dev/null
  bench=$build/tools/calendar_bench
else
  # Not wired into tools/CMakeLists.txt yet: compile just what it needs.
  bench=$build/calendar_bench-standalone
  flags=(-std=c++20 -O2 -DNDEBUG -I"$root/src" -DHAS_STRING_VIEW=1 -DONLY_C_LOCALE=1
         -DTOML_HEADER_ONLY=0 -DTOML_SHARED_LIB=1 -DTOML_EXCEPTIONS=1 -DFMT_SHARED)
  mkdir -p "$build/calendar_bench-objects"
  objects=()
  for source in src/calendar/calendar.cpp src/calendar/loader.cpp src/config/toml.cpp src/config/error.cpp \
                src/model/instant.cpp \
                tools/bench/calendar_bench.cpp; do
    object=$build/calendar_bench-objects/$(echo "$source" | tr / _).o
    if [ ! -f "$object" ] || [ "$root/$source" -nt "$object" ]; then
      g++ "${flags[@]}" -c "$root/$source" -o "$object" &
    fi
    objects+=("$object")
    # two cores: at most two compilers at a time
    if [ "$(jobs -r | wc -l)" -ge 2 ]; then wait -n; fi
  done
  wait
  g++ -o "$bench" "${objects[@]}" $(pkg-config --libs absl_time) -ltomlplusplus -lfmt -lpthread
fi

# --- 3. runs ----------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a / b }'; }
rate_of() { awk -v name="$1 $2" 'index($0, name " ") == 1 { print $3 }'; }

: >"$work/rates.txt"
for run in $(seq 1 "$runs"); do
  echo "run $run of $runs ..." >&2
  "${pin[@]}" "$bench" "$config" "$work" run "$reps" | tee -a "$work/rates.txt" >&2
  "${pin[@]}" node "$here/mbt_bench.js" "$work" "$mbt_n" "$mbt_n" | tee -a "$work/rates.txt" >&2
  "${pin[@]}" perl "$here/bh_bench.pl" "$work" "$bh_add" "$bh_between" | tee -a "$work/rates.txt" >&2
done

# --- 4. report --------------------------------------------------------------------------------
echo
echo "calendar benchmark: support = Mon-Fri 02:00-18:00 America/Los_Angeles with $(wc -l <"$work/holidays.txt") holidays"
echo "medians of $runs runs; ours: $reps passes over 100,000 pairs per run; pinned: ${pin[*]:-no}"
for op in add between; do
  ours=$(rate_of ours "$op" <"$work/rates.txt" | median)
  mbt=$(rate_of mbt "$op" <"$work/rates.txt" | median)
  bh=$(rate_of bh "$op" <"$work/rates.txt" | median)
  printf '%-8s ours %12.0f ops/s | moment-business-time %9.1f ops/s (x%s) | Business::Hours %8.1f ops/s (x%s)\n' \
    "$op" "$ours" "$mbt" "$(ratio "$ours" "$mbt")" "$bh" "$(ratio "$ours" "$bh")"
done
echo "(xN = ours / theirs; moment-business-time on $mbt_n pairs, Business::Hours on $bh_add adds and $bh_between betweens)"
echo
status=0
"$bench" "$config" "$work" compare mbt || status=$?
"$bench" "$config" "$work" compare bh || status=$?
exit $status

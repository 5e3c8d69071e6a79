#!/usr/bin/env bash
# Durable ingest on PostgreSQL beside SQLite, in one run (issue 12 D7).
#
# wrk POSTs troubleshooting requests (file_request.lua, as ingest.sh) to the real server:
#   - SQLite, one instance, on a fresh database file (WAL, synchronous = FULL);
#   - PostgreSQL, one instance and three instances on one schema (a fresh schema per run and per
#     instance count), on a cluster this script starts with `SWITCHBOARD_PG_DURABLE=1 tools/pg`:
#     fsync, full_page_writes and synchronous_commit on, so each 201 is on disk as on SQLite
#     (tools/pg's test clusters turn them off).
# With three instances, three wrk processes run at once with the connections split between them
# (32 = 11 + 11 + 10; with fewer connections than instances, only as many get one: 1 = 1 + 0 + 0):
# the row gives their summed req/s and the worst p50 and p99. The configurations are interleaved
# in every run (SQLite, PostgreSQL x1, PostgreSQL x3, ...) and the table gives medians of RUNS
# runs, each row's ratio to SQLite at the same connections (the ratio of the medians, and the
# median of each run's own ratio: the machine's drift between runs cancels), for information:
# the issue sets no target. A row fails when any answer was not 201 or wrk saw a socket error
# (a refusal is not an ingest); after each PostgreSQL run the script counts the schema's stored
# requests, which must be at least the 201s wrk counted (wrk does not count answers still in
# flight when it stops).
#
# Every server, the database cluster and wrk share this machine's cores: the three-instance rows
# measure three servers and three wrk processes on the same cores as PostgreSQL, not a
# deployment's scaling.
#
# Environment: CONNECTIONS (default "1 32 128"), INSTANCES (PostgreSQL instance counts, default
# "1 3"), and those of common.sh: RUNS, DURATION, BUILD, SERVER, SWITCHBOARD_BENCH_REPORT_ONLY=1
# (exit 0 when a row fails). ingest.sh runs this script after its own table with POSTGRES=1.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
connections=${CONNECTIONS:-"1 32 128"}
instance_counts=${INSTANCES:-"1 3"}
work=$build/bench/ingest_postgres
mkdir -p "$work"
rm -f "$work"/*.result "$work/wrk.err" "$work"/part-*

ensure_wrk
[ -n "${SERVER:-}" ] || build_targets switchboard
make_token "$work"
io_threads=$(sed -n 's/^io_threads *= *\([0-9]*\).*/\1/p' "$config" | head -1)
[ -n "$io_threads" ] && [ "$io_threads" != 0 ] || io_threads=$(nproc)
command -v psql >/dev/null || apt_install postgresql-client
"$root/tools/pg" install

# The shipped config without the per-client cap (common.sh), and its copy on PostgreSQL ([server]
# database stays: it is allowed and unused with backend "postgres").
server_config "$work" >/dev/null
cp "$work/switchboard.toml" "$work/postgres.toml"
printf '\n[storage]\nbackend = "postgres"\n' >>"$work/postgres.toml"

pg_dir=$work/pg
[ ! -e "$pg_dir/env" ] || "$root/tools/pg" stop "$pg_dir"
rm -rf "$pg_dir"
server_pid=
pids=()
urls=()
stop_servers() {
  local pid
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  pids=()
  urls=()
}
cleanup() {
  [ -n "$server_pid" ] && stop_pid "$server_pid"
  stop_servers
  [ -e "$pg_dir/env" ] && "$root/tools/pg" stop "$pg_dir"
  return 0
}
trap cleanup EXIT
SWITCHBOARD_PG_DURABLE=1 "$root/tools/pg" start "$pg_dir" >/dev/null
pg_url=$("$root/tools/pg" url "$pg_dir")
pg_version=$(psql "$pg_url" -Atc 'SHOW server_version')
pg_durable=$(psql "$pg_url" -Atc "SELECT string_agg(name || ' = ' || setting, ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')")

# start_pg_server NAME SCHEMA: a server on SCHEMA of the cluster (search_path in the URL); adds
# its pid and URL to pids and urls. Started one after another: the first migrates the schema.
start_pg_server() {
  local name=$1 schema=$2 pid
  : >"$work/$name.out"
  SWITCHBOARD_DATABASE_URL="$pg_url?options=-csearch_path%3D$schema&application_name=$name" \
    "$(server_bin)" --config "$work/postgres.toml" --listen 127.0.0.1:0 --tokens "$work/tokens.toml" \
    >"$work/$name.out" 2>"$work/$name.err" &
  pid=$!
  pids+=("$pid")
  wait_listening "$work/$name.out" "$pid" "${SERVER_START_TIMEOUT:-900}"
  urls+=("$listening_url")
}

# run_split C: C connections split over the servers in urls, one wrk each, at once; prints
# "rate p50 p99 bad answered201 split": summed rate, worst p50 and p99, answers not 201 plus
# socket errors, the 201s, and the split ("11+11+10").
run_split() {
  local c=$1 n=${#urls[@]} i share waits=()
  rm -f "$work"/part-*
  for i in $(seq 0 $((n - 1))); do
    share=$((c / n + (i < c % n ? 1 : 0)))
    echo "$share" >"$work/part-$i.share"
    [ "$share" -gt 0 ] || continue
    run_wrk file_request.lua "$share" "${urls[i]}" >"$work/part-$i" &
    waits+=($!)
  done
  for i in "${waits[@]}"; do wait "$i"; done
  cat "$work"/part-? | awk -v shares="$(cat "$work"/part-?.share | paste -sd+)" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      rate += v["rate"]; if (v["p50_ms"] > p50) p50 = v["p50_ms"]; if (v["p99_ms"] > p99) p99 = v["p99_ms"]
      bad += v["non201"] + v["errors"]; ok += v["requests"] - v["non201"]; parts++ }
    END { if (parts == 0) { print "0 0 0 1 0 none"; exit }
          printf "%.1f %.3f %.3f %d %d %s\n", rate, p50, p99, bad, ok, shares }'
}

# record KEY C LINE: appends LINE's fields to KEY-C's result files.
record() {
  local key=$1 c=$2 line=$3
  echo "$line" | awk '{ print $1 }' >>"$work/$key-$c-rate.result"
  echo "$line" | awk '{ print $2 }' >>"$work/$key-$c-p50.result"
  echo "$line" | awk '{ print $3 }' >>"$work/$key-$c-p99.result"
  echo "$line" | awk '{ print $4 }' >>"$work/$key-$c-bad.result"
  echo "$line" | awk '{ print $6 }' >"$work/$key-$c-split.result"
}
paired_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f\n", (b > 0) ? a / b : 0 }'; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq 1 "$runs"); do
  echo "run $run of $runs ..." >&2
  rm -f "$work"/server.db*
  start_server server "$work/server.db"
  urls=("$server_url")
  for c in $connections; do
    line=$(run_split "$c")
    echo "  sqlite x1 c=$c: $line" >&2
    record sqlite "$c" "$line"
  done
  urls=()
  stop_pid "$server_pid"
  server_pid=

  for n in $instance_counts; do
    schema=bench_r${run}_x${n}
    psql "$pg_url" -qc "CREATE SCHEMA $schema"
    for i in $(seq 1 "$n"); do start_pg_server "pg$n-$i" "$schema"; done
    answered=0
    for c in $connections; do
      line=$(run_split "$c")
      echo "  postgres x$n c=$c: $line" >&2
      record "pg$n" "$c" "$line"
      answered=$((answered + $(echo "$line" | awk '{ print $5 }')))
      paired_ratio "$(echo "$line" | awk '{ print $1 }')" "$(tail -1 "$work/sqlite-$c-rate.result")" >>"$work/pg$n-$c-pair.result"
    done
    stop_servers
    stored=$(psql "$pg_url" -Atc "SELECT count(*) FROM $schema.requests")
    echo "  postgres x$n: $stored requests stored, $answered answered 201" >&2
    if [ "$stored" -lt "$answered" ]; then
      echo "bench: schema $schema stores $stored requests but wrk counted $answered 201s" >&2
      echo 1 >>"$work/lost.result"
    fi
    PGOPTIONS="-c client_min_messages=warning" psql "$pg_url" -qc "DROP SCHEMA $schema CASCADE"
  done
done

med() { median <"$work/$1.result"; }
pairs() { awk '{ printf "%s%.0f", (NR > 1 ? ", " : ""), 100 * $1 }' "$work/$1.result"; }

echo
echo "ingest on PostgreSQL beside SQLite: $(machine) (before the run: $load_before)"
echo "medians of $runs interleaved runs of ${duration} s; each server on ${io_threads} I/O thread(s), max_connections_per_client = 0;"
echo "PostgreSQL $pg_version on this machine ($pg_durable), a fresh schema per run; SQLite WAL, synchronous = FULL"
echo "x3: three servers on one schema, one wrk each (connections split as shown), summed req/s, worst p50/p99"
echo "vs SQLite: ratio of the medians; paired: the median of each run's own ratio (per run in brackets); no target"
echo
echo "| backend | instances | connections | req/s | p50 | p99 | vs SQLite | paired (per run) | |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
failed=0
row() {
  local key=$1 name=$2 n=$3 c=$4 shown=$4 bad rate ratio="" paired="" mark=ok
  bad=$(awk '{ s += $1 } END { print s + 0 }' "$work/$key-$c-bad.result")
  [ "$bad" = 0 ] || { mark="FAIL ($bad answers not 201 or socket errors)"; failed=1; }
  rate=$(med "$key-$c-rate")
  [ "$n" = 1 ] || shown="$c ($(cat "$work/$key-$c-split.result"))"
  if [ "$key" != sqlite ]; then
    ratio=$(awk -v a="$rate" -v b="$(med "sqlite-$c-rate")" 'BEGIN { if (b > 0) printf "%.1f %%", 100 * a / b }')
    paired="$(awk -v p="$(med "$key-$c-pair")" 'BEGIN { printf "%.1f %%", 100 * p }') ($(pairs "$key-$c-pair"))"
  fi
  printf '| %s | %s | %s | %.0f | %.1f ms | %.1f ms | %s | %s | %s |\n' \
    "$name" "$n" "$shown" "$rate" "$(med "$key-$c-p50")" "$(med "$key-$c-p99")" "$ratio" "$paired" "$mark"
}
for c in $connections; do
  row sqlite SQLite 1 "$c"
  for n in $instance_counts; do row "pg$n" PostgreSQL "$n" "$c"; done
done
echo
if [ -s "$work/lost.result" ]; then
  echo "a PostgreSQL schema stored fewer requests than wrk counted 201s (see above)"
  failed=1
fi
if [ "$failed" = 1 ]; then
  if [ "$report_only" = 1 ]; then
    echo "some rows failed (SWITCHBOARD_BENCH_REPORT_ONLY=1: exit 0)"
    exit 0
  fi
  echo "some rows failed"
  exit 1
fi
echo "every answer was 201, and every PostgreSQL schema stores at least the 201s counted"

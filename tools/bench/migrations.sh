#!/usr/bin/env bash
# The upgrade of a large database: the migrations that read every stored request once (20,
# clock_facts for SLA reports; 21, the search index; 24, the /metrics counters), each timed on
# SWITCHBOARD_BENCH_ROWS stored requests (default 1,000,000) as the server's restart (launch to
# /healthz 200) on a copy rewound to before that migration, against the restart of the same
# database already at the current schema, in the same run (interleaved, medians of RUNS).
#
# The server runs its migrations before it listens, one transaction each; while one runs the
# old server must be stopped (a deploy's downtime). Target: the upgrade of a million requests in
# under 10 minutes for each migration, so that an operator can plan it as a maintenance window.
#
# Rewinding drops what the migration made and deletes its schema_migrations row; the server
# then applies it as on a database from before it. Each variant is a fresh copy of the seed.
#
# Environment: SWITCHBOARD_BENCH_ROWS, SWITCHBOARD_BENCH_REUSE_SEED=1 (keep a seeded database
# of the same N from an earlier run), and those of common.sh: RUNS, BUILD,
# SWITCHBOARD_BENCH_REPORT_ONLY=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rows=${SWITCHBOARD_BENCH_ROWS:-1000000}
seeded_at=2026-11-02T17:00:00Z   # as scale.sh: a Monday, inside support hours
clock_start=2026-11-02T17:02:00Z
work=$build/bench/migrations
mkdir -p "$work"
rm -f "$work"/*.result
command -v sqlite3 >/dev/null || apt_install sqlite3
command -v curl >/dev/null || apt_install curl
build_targets $(server_target) seed
make_token "$work"

seeded=$work/seeded.db
seed_database "$seeded" "$rows" "$seeded_at"
stored_events=$(sqlite3 "$seeded" 'SELECT COUNT(*) FROM events')

# What each migration made (src/store/database.cpp), dropped so that the server makes it again.
rewind_sql() {
  case $1 in
    20) echo "DROP TABLE clock_facts;" ;;
    21) echo "DROP TRIGGER request_search_insert; DROP TABLE request_search;" ;;
    24) local t
        for t in request_status escalation_state outbox_state; do
          echo "DROP TRIGGER ${t}_counts_insert; DROP TRIGGER ${t}_counts_delete;"
          echo "DROP TRIGGER ${t}_counts_update; DROP TABLE ${t}_counts;"
        done ;;
  esac
  echo "DELETE FROM schema_migrations WHERE version = $1;"
}

server_pid=
cleanup() {
  [ -n "$server_pid" ] && stop_pid "$server_pid"
  return 0
}
trap cleanup EXIT

# The server refuses a --clock-start before the newest stored event (as scale.sh).
start=$(date -u -d "$clock_start" +%s)
newest=$(sqlite3 "$seeded" 'SELECT COALESCE(MAX(at), 0) FROM events')
[ "$newest" -ge "$start" ] && start=$((newest + 1))
start_at=$(date -u -d "@$start" +%Y-%m-%dT%H:%M:%SZ)

# restart NAME: the server's launch to /healthz 200 on $work/copy.db, appended to NAME.result.
# The copy is flushed and read once first: a start's reads of a 7 GB file that is not in the page
# cache took 45 to 60 s whatever it migrated (scale.sh saw the same, 33.6 s, on its first start
# after seeding), which hid the migrations' own time.
restart() {
  sync
  cat "$work/copy.db" >/dev/null
  start_server "$1" "$work/copy.db" --clock-start "$start_at"
  wait_healthy "$server_url" "${SERVER_START_TIMEOUT:-3600}"
  local seconds
  seconds=$(echo "$server_started_ns $(date +%s%N)" | awk '{ printf "%.3f\n", ($2 - $1) / 1e9 }')
  echo "$seconds" >>"$work/$1.result"
  echo "  $1: $seconds s" >&2
  stop_pid "$server_pid"
  server_pid=
}

variants=(20 21 24)
for run in $(seq 1 "$runs"); do
  echo "run $run of $runs ..." >&2
  rm -f "$work"/copy.db*
  cp "$seeded" "$work/copy.db"
  restart current
  for v in "${variants[@]}"; do
    rm -f "$work"/copy.db*
    cp "$seeded" "$work/copy.db"
    sqlite3 "$work/copy.db" "$(rewind_sql "$v")"
    restart "migration-$v"
  done
done

med() { median <"$work/$1.result"; }
echo
echo "migrations benchmark: $(machine)"
echo "$rows requests stored ($stored_events events); medians of $runs interleaved runs"
echo
echo "| restart to /healthz 200 | seconds | minus the restart at the current schema | target | |"
echo "| --- | --- | --- | --- | --- |"
baseline=$(med current)
printf '| at the current schema | %.2f | | | |\n' "$baseline"
declare -A what=([20]="clock_facts (SLA reports)" [21]="search index" [24]="/metrics counters")
for v in "${variants[@]}"; do
  t=$(med "migration-$v")
  extra=$(awk -v a="$t" -v b="$baseline" 'BEGIN { printf "%.2f", a - b }')
  verdict "$(awk -v s="$extra" 'BEGIN { print (s < 600) ? 1 : 0 }')"
  printf '| migration %s, %s | %.2f | %s | < 600 s | %s |\n' "$v" "${what[$v]}" "$t" "$extra" "$mark"
done
echo
finish

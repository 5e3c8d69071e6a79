# Shared by tools/bench/ingest.sh, scale.sh and rules.sh (sourced, not run).
#
# Environment: BUILD (the build folder: default build/ when it is a Release build, else
# build-bench/, configured Release), SERVER (the server binary, default $BUILD/src/switchboard), RUNS (interleaved runs, default 3), DURATION (seconds per
# wrk run, default 10), SWITCHBOARD_BENCH_REPORT_ONLY=1 (print the table, exit 0 on a miss).

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
config=$root/config/switchboard.toml
runs=${RUNS:-3}
duration=${DURATION:-10}
report_only=${SWITCHBOARD_BENCH_REPORT_ONLY:-0}

# The existing Release build when there is one: only the targets a benchmark needs are built.
if [ -n "${BUILD:-}" ]; then
  build=$BUILD
elif grep -qs '^CMAKE_BUILD_TYPE:STRING=Release$' "$root/build/CMakeCache.txt"; then
  build=$root/build
else
  build=$root/build-bench
fi

apt_updated=
apt_install() {
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  [ -n "$apt_updated" ] || { "${sudo[@]}" apt-get update -qq; apt_updated=1; }
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# build_targets TARGET...: configures a Release build only when there is none, then builds
# just the named targets (and what they link), never the whole project.
build_targets() {
  if [ ! -f "$build/CMakeCache.txt" ]; then
    local launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    cmake -S "$root" -B "$build" -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  CCACHE_BASEDIR=$root cmake --build "$build" -j 2 --target "$@" >&2
}

# SERVER names another server binary to measure (e.g. another checkout's build); by default the
# one in $build, built with the benchmark's targets.
server_bin() { echo "${SERVER:-$build/src/switchboard}"; }
server_target() { [ -n "${SERVER:-}" ] || echo switchboard; }

# A tokens file with one CE token, made per run; exports SWITCHBOARD_BENCH_TOKEN for wrk.
make_token() {
  local dir=$1
  SWITCHBOARD_BENCH_TOKEN=bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  export SWITCHBOARD_BENCH_TOKEN
  install -m 600 /dev/null "$dir/tokens.toml"
  printf '[[token]]\nperson = "bench-ce"\nrole = "ce"\nsha256 = "%s"\n' \
    "$(printf '%s' "$SWITCHBOARD_BENCH_TOKEN" | sha256sum | cut -d' ' -f1)" >"$dir/tokens.toml"
}

# server_config DIR: writes DIR/switchboard.toml, the shipped config with no per-client
# connection cap ([server] max_connections_per_client = 0), and prints its path. Every wrk
# connection comes from 127.0.0.1: under the default cap (64) the 128-connection runs were
# mostly 503s. The paths the config names relative to its own folder (database, rules,
# tokens_file) are made absolute in the copy, so it names the same files from DIR.
server_config() {
  local dir=$1 base
  base=$(cd "$(dirname "$config")" && pwd)
  awk -v base="$base" '
    /^[[:space:]]*\[/ { in_server = ($0 ~ /^[[:space:]]*\[server\][[:space:]]*(#.*)?$/); if (in_server) seen = 1 }
    in_server && /^[[:space:]]*max_connections_per_client[[:space:]]*=/ { next }
    {
      line = $0
      if (match(line, /^[[:space:]]*(database|rules|tokens_file)[[:space:]]*=[[:space:]]*"/)) {
        rest = substr(line, RLENGTH + 1)
        if (rest !~ /^[\/:]/) line = substr(line, 1, RLENGTH) base "/" rest
      }
      print line
      if (in_server && $0 ~ /^[[:space:]]*\[server\]/) print "max_connections_per_client = 0"
    }
    END { if (!seen) print "[server]\nmax_connections_per_client = 0" }
  ' "$config" >"$dir/switchboard.toml"
  echo "$dir/switchboard.toml"
}

# start_server NAME DB [ARGS...]: starts the server on DB (port picked by the kernel) with
# server_config's copy of the config, and waits until it listens (deadline
# SERVER_START_TIMEOUT, default 900 s). Sets server_pid, server_url and server_started_ns (when
# it was launched).
start_server() {
  local name=$1 db=$2 server_toml
  shift 2
  local out=$work/$name.out
  : >"$out"
  server_toml=$(server_config "$work")
  server_started_ns=$(date +%s%N)
  "$(server_bin)" --config "$server_toml" --db "$db" --listen 127.0.0.1:0 --tokens "$work/tokens.toml" "$@" \
    >"$out" 2>"$work/$name.err" &
  server_pid=$!
  wait_listening "$out" "$server_pid" "${SERVER_START_TIMEOUT:-900}"
  server_url=$listening_url
}

# wait_listening FILE PID SECONDS: waits for "listening on http://HOST:PORT" in FILE.
wait_listening() {
  local file=$1 pid=$2 limit=$3 deadline
  deadline=$(($(date +%s) + limit))
  listening_url=
  while [ -z "$listening_url" ]; do
    listening_url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$file" | head -1)
    [ -n "$listening_url" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "bench: the server exited before listening:" >&2
      cat "${file%.out}.err" >&2 || true
      exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "bench: nothing listening after $limit s" >&2; exit 1; fi
    sleep 0.05
  done
}

# wait_healthy URL SECONDS: until GET URL/healthz answers 200.
wait_healthy() {
  local deadline=$(($(date +%s) + $2))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/healthz")" = 200 ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "bench: $1/healthz not 200 after $2 s" >&2; exit 1; fi
    sleep 0.05
  done
}

stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# run_wrk SCRIPT CONNECTIONS URL: prints wrk's "result ..." line (see file_request.lua, get.lua).
run_wrk() {
  local script=$1 connections=$2 url=$3 threads=2
  [ "$connections" -lt 2 ] && threads=1
  wrk -t "$threads" -c "$connections" -d "${duration}s" --timeout 10s -s "$here/$script" "$url" \
    2>>"$work/wrk.err" | grep '^result '
}

# field NAME: the value of NAME=... on a result line read from stdin.
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "nan" }'; }

# The machine, for the table's caption.
machine() {
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# verdict 1|0: sets mark to "ok" or "MISS" and remembers a miss for the exit status (call it
# outside $(...): a subshell would forget the miss).
missed=0
mark=
verdict() {
  if [ "$1" = 1 ]; then mark=ok; else missed=1; mark=MISS; fi
}

finish() {
  if [ "$missed" = 1 ]; then
    if [ "$report_only" = 1 ]; then
      echo "some targets were missed (SWITCHBOARD_BENCH_REPORT_ONLY=1: exit 0)"
      exit 0
    fi
    echo "some targets were missed"
    exit 1
  fi
  echo "every target met"
}

# seed_database DB ROWS AT: tools/bench/seed writes ROWS requests into DB at the instant AT, or,
# with SWITCHBOARD_BENCH_REUSE_SEED=1, keeps a DB seeded with as many by an earlier run (its
# count is in DB.rows).
seed_database() {
  local db=$1 rows=$2 at=$3
  if [ "${SWITCHBOARD_BENCH_REUSE_SEED:-0}" = 1 ] && [ "$(cat "$db.rows" 2>/dev/null)" = "$rows" ]; then
    echo "reusing $db ($rows requests)" >&2
    return
  fi
  echo "seeding $rows requests ..." >&2
  rm -f "$db.rows" "$db" "$db-wal" "$db-shm"
  "$build/tools/seed" "$config" "$db" "$rows" "$at" >&2
  echo "$rows" >"$db.rows"
}

ensure_wrk() { command -v wrk >/dev/null || apt_install wrk; command -v curl >/dev/null || apt_install curl; }

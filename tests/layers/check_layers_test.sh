#!/usr/bin/env bash
# tools/check-layers on small trees made here: SQLite under src/store (and in src/CMakeLists.txt)
# passes, SQLite anywhere else in src fails and is named. Usage: check_layers_test.sh CHECK_LAYERS
set -euo pipefail
check=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

tree() {  # a tree with the domain folders and SQLite where it belongs
  local root=$1
  mkdir -p "$root"/src/{util,model,calendar,rules,sla,escalation,engine,store,http/api}
  echo '#include <SQLiteCpp/Database.h>' >"$root/src/store/fine.cpp"
  echo 'target_link_libraries(x PUBLIC SQLiteCpp)' >"$root/src/CMakeLists.txt"
}

expect() {  # expect NAME WANT_STATUS PATTERN ROOT
  local name=$1 want=$2 pattern=$3 root=$4 out status=0
  out=$("$check" "$root" 2>&1) || status=$?
  if [ "$status" -ne "$want" ] || ! grep -q -- "$pattern" <<<"$out"; then
    echo "FAIL $name: status $status (want $want), output:" >&2
    echo "$out" >&2
    failures=$((failures + 1))
  else
    echo "ok $name"
  fi
}

tree "$tmp/clean"
expect "SQLite in src/store and src/CMakeLists.txt passes" 0 "check-layers: ok" "$tmp/clean"

tree "$tmp/http"
echo 'SQLite::Database& db;' >"$tmp/http/src/http/api/fresh.cpp"
expect "SQLite in src/http fails" 1 "src/http/api/fresh.cpp:1:SQLite::Database& db;: SQLite outside src/store" "$tmp/http"

tree "$tmp/comment"
mkdir -p "$tmp/comment/src/scheduler"
echo '// reads the SQLite file' >"$tmp/comment/src/scheduler/scheduler.hpp"
expect "even a comment naming SQLite outside src/store fails (the issue's grep)" 1 "src/scheduler/scheduler.hpp:1:" "$tmp/comment"

tree "$tmp/backtest"
mkdir -p "$tmp/backtest/src/backtest"
echo '#include "engine/engine.hpp"' >"$tmp/backtest/src/backtest/world.cpp"
expect "the backtest may include the engine" 0 "check-layers: ok" "$tmp/backtest"
echo '#include "store/requests.hpp"' >"$tmp/backtest/src/backtest/run.cpp"
expect "the backtest includes nothing from the store" 1 "src/backtest/run.cpp:1:#include \"store/requests.hpp\": the backtest replays values" "$tmp/backtest"
echo '#include <boost/json.hpp>' >"$tmp/backtest/src/backtest/run.cpp"
expect "the backtest is domain: no JSON" 1 "src/backtest/run.cpp:1:#include <boost/json.hpp>: the domain includes no JSON" "$tmp/backtest"

exit $((failures > 0))

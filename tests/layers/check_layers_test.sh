#!/usr/bin/env bash
# tools/check-layers on small trees made here: SQLite under src/store passes, SQLite in a file
# outside it that is not on the list fails and is named, and a listed file that lost its SQLite
# fails too (the list only shrinks). Usage: check_layers_test.sh PATH_TO_CHECK_LAYERS
set -euo pipefail
check=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

tree() {  # a tree with the domain folders, the listed files (mentioning SQLite) and src/store
  local root=$1
  mkdir -p "$root"/src/{util,model,calendar,rules,sla,escalation,engine,store,http/api}
  { sed -n '/^sqlite_still_outside=(/,/^)/p' "$check" | grep '^  src/' || true; } | while read -r file; do
    mkdir -p "$root/$(dirname "$file")"
    echo '// uses SQLite until B3' >"$root/$file"
  done
  echo '#include <SQLiteCpp/Database.h>' >"$root/src/store/fine.cpp"
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
expect "SQLite in src/store and in the listed files passes" 0 "check-layers: ok" "$tmp/clean"

tree "$tmp/new"
echo 'SQLite::Database& db;' >"$tmp/new/src/http/api/fresh.cpp"
expect "SQLite in a new file outside src/store fails" 1 "src/http/api/fresh.cpp:1:SQLite::Database& db;: SQLite outside src/store" "$tmp/new"

tree "$tmp/shrunk"
mkdir -p "$tmp/shrunk/src/scheduler"
echo '// moved behind the store' >"$tmp/shrunk/src/scheduler/scheduler.cpp"
expect "a listed file without SQLite must leave the list" 1 "src/scheduler/scheduler.cpp no longer mentions SQLite" "$tmp/shrunk"

exit $((failures > 0))

#!/usr/bin/env bash
# tools/dev's command lines, printed by SWITCHBOARD_DEV_DRY_RUN=1 (nothing is installed, built or
# started): `run` gives the server each of --config, --tokens and --db once, the caller's when
# given, the defaults otherwise, and CI=true configures with the same flags as a local build.
# Usage: dev_test.sh SOURCE_DIR
set -euo pipefail
dev="$1/tools/dev"
failures=0
# A dry run runs nothing: a cmake that fails here, and a var folder of its own, make sure of it
# (a tools/dev without dry runs fails at once instead of building and starting a server).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
printf '#!/bin/sh\necho "tools/dev ran cmake in a dry run" >&2\nexit 1\n' >"$tmp/bin/cmake"
chmod +x "$tmp/bin/cmake"
export PATH="$tmp/bin:$PATH" SWITCHBOARD_VAR_DIR="$tmp/var"

fail() {
  echo "FAIL $1" >&2
  failures=$((failures + 1))
}

# The server's command line (the last line printed) as one argument a line.
server_line() {
  SWITCHBOARD_DEV_DRY_RUN=1 "$dev" run "$@" | tail -1 | xargs -n1 printf '%s\n'
}

# count WORD LINES: how many lines equal WORD.
count() { grep -c -x -F -- "$1" <<<"$2" || true; }

# `value_after FLAG LINES`: the argument after FLAG, or FLAG=VALUE's value.
value_after() { awk -v flag="$1" 'p { print; exit } $0 == flag { p = 1 } index($0, flag "=") == 1 { print substr($0, length(flag) + 2); exit }' <<<"$2"; }

args=$(server_line --db /tmp/x.db --config C) || fail "tools/dev run --db /tmp/x.db --config C printed no dry run"
[ "$(count --db "$args")" = 1 ] && [ "$(value_after --db "$args")" = /tmp/x.db ] || fail "run --db /tmp/x.db: one --db, the caller's: $args"
[ "$(count --config "$args")" = 1 ] && [ "$(value_after --config "$args")" = C ] || fail "run --config C: one --config, the caller's: $args"
# The caller's --config still gets the development tokens.
[ "$(count --tokens "$args")" = 1 ] && [[ "$(value_after --tokens "$args")" == */tokens.toml ]] || fail "run --config C: the dev tokens: $args"
echo "checked run --db /tmp/x.db --config C"

args=$(server_line --listen 127.0.0.1:9000) || fail "tools/dev run --listen 127.0.0.1:9000 printed no dry run"
for flag in --config --tokens --db; do
  [ "$(count "$flag" "$args")" = 1 ] || fail "run without them: one default $flag: $args"
done
[ "$(value_after --listen "$args")" = 127.0.0.1:9000 ] || fail "run --listen reaches the server: $args"
[[ "$(value_after --config "$args")" == */config/switchboard.toml ]] || fail "run: the default config: $args"
[[ "$(value_after --db "$args")" == */switchboard.db ]] || fail "run: the default database: $args"
echo "checked run --listen: the three defaults once each, and the caller's option"

args=$(server_line --tokens=/tmp/t.toml --db=/tmp/y.db) || fail "tools/dev run --tokens=/tmp/t.toml --db=/tmp/y.db printed no dry run"
[ "$(count --tokens "$args")" = 0 ] && [ "$(count --db "$args")" = 0 ] && [ "$(count --config "$args")" = 1 ] \
  && [ "$(count --tokens=/tmp/t.toml "$args")" = 1 ] && [ "$(count --db=/tmp/y.db "$args")" = 1 ] \
  || fail "run --tokens=T --db=D: the caller's forms only, and the default config: $args"
echo "checked run --tokens=T --db=D"

# A config on PostgreSQL gets no default --db (the server refuses one with backend = "postgres").
printf '[storage]\nbackend = "postgres"\n' >"$tmp/pg.toml"
args=$(server_line --config "$tmp/pg.toml") || fail "tools/dev run --config pg.toml printed no dry run"
[ "$(count --db "$args")" = 0 ] || fail "run --config pg.toml: no --db: $args"
echo "checked run --config with backend postgres: no --db"

# CI=true and a local build configure alike (-Werror in both), so neither rebuilds the other's objects.
flags() { env -u CI "$@" SWITCHBOARD_DEV_DRY_RUN=1 "$dev" build | sed -n 1p | tr ' ' '\n' | grep '^-D' | sort; }
local_flags=$(flags)
ci_flags=$(flags CI=true)
[ -n "$local_flags" ] && [ "$local_flags" = "$ci_flags" ] || fail "CI=true and unset configure alike: [$local_flags] vs [$ci_flags]"
grep -q -x -- '-DSWITCHBOARD_WARNINGS_AS_ERRORS=ON' <<<"$local_flags" || fail "-Werror by default: $local_flags"
echo "checked CI=true and unset print the same cmake -D flags"

[ "$failures" -eq 0 ] || exit 1

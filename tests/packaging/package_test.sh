#!/usr/bin/env bash
# CTest `packaging`: what `cmake --install` puts in place, the systemd unit's validity and
# hardening, and the Debian package CPack makes (README "Deploying"; plan issue-14 O8).
# Usage: package_test.sh BUILD_DIR (built: the binaries and the completion script exist).
# Exits 77 (CTest SKIP_RETURN_CODE) when systemd-analyze is not installed.
set -euo pipefail

build=$(cd "${1:?usage: package_test.sh BUILD_DIR}" && pwd)
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: systemd-analyze is not installed (Debian package systemd): the unit cannot be checked"
  exit 77
fi
for tool in cpack dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool is not installed" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# 1. cmake --install into a prefix of our own: every listed file is there.
prefix="$work/usr"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log" >&2; fail "cmake --install"; }
unit="$prefix/lib/systemd/system/switchboard.service"
for file in bin/switchboard bin/switchboard-cli etc/switchboard/switchboard.toml etc/switchboard/routing.toml \
  etc/switchboard/tokens.toml lib/systemd/system/switchboard.service \
  share/bash-completion/completions/switchboard-cli share/doc/switchboard/README.md \
  share/doc/switchboard/openapi.json share/doc/switchboard/copyright; do
  [ -f "$prefix/$file" ] || fail "cmake --install did not install $file"
done
[ -x "$prefix/bin/switchboard" ] || fail "bin/switchboard is not executable"
grep -q "^ExecStart=$prefix/bin/switchboard --config $prefix/etc/switchboard/switchboard.toml " "$unit" ||
  fail "the unit's ExecStart does not name the installed binary and config: $(grep ExecStart "$unit")"
# The database is the config's: the server refuses --db with [storage] backend = "postgres".
! grep -q '^ExecStart=.*--db' "$unit" || fail "the unit's ExecStart passes --db: $(grep ExecStart "$unit")"

# 1b. A second install keeps the operator's /etc/switchboard files (README "Deploying"): edit
# each, append a token, make them older than any source (as a `git pull` makes the sources
# newer; the staged config and tokens file are rewritten by every install anyway), install again.
etc="$prefix/etc/switchboard"
"$prefix/bin/switchboard-cli" token new --person dana --role ce --append "$etc/tokens.toml" >/dev/null ||
  fail "token new --append $etc/tokens.toml"
echo '# an operator edit' >>"$etc/switchboard.toml"
echo '# an operator edit' >>"$etc/routing.toml"
touch -d '2000-01-01 00:00:00' "$etc/switchboard.toml" "$etc/routing.toml" "$etc/tokens.toml"
cmake --install "$build" --prefix "$prefix" >"$work/install2.log" || { cat "$work/install2.log" >&2; fail "the second cmake --install"; }
for file in switchboard.toml routing.toml tokens.toml; do
  grep -qF "Kept: $etc/$file" "$work/install2.log" || fail "the second install did not say it kept $file: $(cat "$work/install2.log")"
done
tail -n 1 "$etc/switchboard.toml" | grep -qxF '# an operator edit' || fail "the second install replaced switchboard.toml"
tail -n 1 "$etc/routing.toml" | grep -qxF '# an operator edit' || fail "the second install replaced routing.toml"
grep -q '^person = "dana"$' "$etc/tokens.toml" || fail "the second install replaced tokens.toml: $(cat "$etc/tokens.toml")"

# 1c. The unit's command line on PostgreSQL: the installed config with backend = "postgres" (its
# [server] database line kept) gets as far as asking for SWITCHBOARD_DATABASE_URL, not refusing --db.
sed -e 's/^# \[storage\].*$/[storage]/' -e 's/^# backend = "postgres".*$/backend = "postgres"/' \
  "$etc/switchboard.toml" >"$work/postgres.toml"
grep -q '^backend = "postgres"$' "$work/postgres.toml" && grep -qx '\[storage\]' "$work/postgres.toml" ||
  fail "the installed config has no commented [storage] backend = \"postgres\" to uncomment"
cp "$etc/routing.toml" "$etc/tokens.toml" "$work/"
read -r -a unit_command <<<"$(sed -n 's/^ExecStart=//p' "$unit")"
exec_start=()
for arg in "${unit_command[@]}"; do
  [ "$arg" = "$etc/switchboard.toml" ] && arg="$work/postgres.toml"
  exec_start+=("$arg")
done
[[ " ${exec_start[*]} " == *" $work/postgres.toml "* ]] || fail "could not point ExecStart at the PostgreSQL config: ${exec_start[*]}"
started=$(env -u SWITCHBOARD_DATABASE_URL timeout 20 "${exec_start[@]}" 2>&1 </dev/null) &&
  fail "the unit's command line started without SWITCHBOARD_DATABASE_URL: $started"
[[ "$started" == *"environment variable SWITCHBOARD_DATABASE_URL"* && "$started" != *"--db"* ]] ||
  fail "the unit's command line on PostgreSQL: $started"

# 2. The unit: systemd accepts it, and its exposure is in the "OK" band (at most 2.0).
systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
security=$(systemd-analyze security --offline=true --threshold=20 "$unit" 2>&1) ||
  { echo "$security" >&2; fail "systemd-analyze security: exposure above 2.0"; }
echo "$security" | grep 'Overall exposure level'

# 3. The installed config, with its paths rewritten, is one the installed CLI accepts.
check=$("$prefix/bin/switchboard-cli" rules check --config "$prefix/etc/switchboard/switchboard.toml" 2>&1) ||
  fail "rules check on the installed config: $check"
[[ "$check" == ok:* ]] || fail "rules check did not say ok: $check"
grep -q '^database = "/var/lib/switchboard/switchboard.db"$' "$prefix/etc/switchboard/switchboard.toml" ||
  fail "the installed config's database is not in /var/lib/switchboard"

# 4. The Debian package.
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/package" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack -G DEB"; }
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
deb="$work/package/switchboard_${version}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || fail "no $deb (made: $(ls "$work/package"))"
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for file in ./usr/bin/switchboard ./usr/bin/switchboard-cli ./usr/lib/systemd/system/switchboard.service \
  ./etc/switchboard/switchboard.toml ./etc/switchboard/routing.toml ./etc/switchboard/tokens.toml \
  ./usr/share/bash-completion/completions/switchboard-cli ./usr/share/doc/switchboard/copyright; do
  grep -qxF "$file" <<<"$contents" || fail "the package lacks $file"
done
depends=$(dpkg-deb -f "$deb" Depends)
for package in libsqlite3-0 libcurl4 libgmime-3.0-0 init-system-helpers; do
  [[ ", $depends," == *", $package "* || ", $depends," == *", $package,"* ]] || fail "Depends lacks $package: $depends"
done
conffiles=$(dpkg-deb -I "$deb" conffiles)
for file in /etc/switchboard/switchboard.toml /etc/switchboard/routing.toml /etc/switchboard/tokens.toml; do
  grep -qxF "$file" <<<"$conffiles" || fail "conffiles lacks $file: $conffiles"
done
for script in postinst prerm postrm; do
  dpkg-deb -I "$deb" "$script" >/dev/null || fail "the package has no $script"
done
dpkg-deb -x "$deb" "$work/extracted"
grep -q '^ExecStart=/usr/bin/switchboard --config /etc/switchboard/switchboard.toml ' \
  "$work/extracted/usr/lib/systemd/system/switchboard.service" || fail "the packaged unit does not name /usr/bin and /etc"
# uPlot's MIT notice, which the licence asks to ship with the binary that embeds it.
copyright="$work/extracted/usr/share/doc/switchboard/copyright"
grep -q '^Copyright: 2022 Leon Sorokin$' "$copyright" && grep -q '^ Permission is hereby granted, free of charge' "$copyright" ||
  fail "the package's copyright file lacks uPlot's MIT notice: $(cat "$copyright")"
"$work/extracted/usr/bin/switchboard" --version | grep -q "^switchboard $version (commit " ||
  fail "the packaged switchboard --version: $(# uPlot's MIT notice, which the licence asks to ship with the binary that embeds it.
copyright="$work/extracted/usr/share/doc/switchboard/copyright"
grep -q '^Copyright: 2022 Leon Sorokin$' "$copyright" && grep -q '^ Permission is hereby granted, free of charge' "$copyright" ||
  fail "the package's copyright file lacks uPlot's MIT notice: $(cat "$copyright")"
"$work/extracted/usr/bin/switchboard" --version)"

echo "packaging: ok ($(basename "$deb"), $(stat -c %s "$deb") bytes)"

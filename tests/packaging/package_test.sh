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
  share/doc/switchboard/openapi.json; do
  [ -f "$prefix/$file" ] || fail "cmake --install did not install $file"
done
[ -x "$prefix/bin/switchboard" ] || fail "bin/switchboard is not executable"
grep -q "^ExecStart=$prefix/bin/switchboard --config $prefix/etc/switchboard/switchboard.toml " "$unit" ||
  fail "the unit's ExecStart does not name the installed binary and config: $(grep ExecStart "$unit")"

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
  ./usr/share/bash-completion/completions/switchboard-cli; do
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
"$work/extracted/usr/bin/switchboard" --version | grep -q "^switchboard $version (commit " ||
  fail "the packaged switchboard --version: $("$work/extracted/usr/bin/switchboard" --version)"

echo "packaging: ok ($(basename "$deb"), $(stat -c %s "$deb") bytes)"

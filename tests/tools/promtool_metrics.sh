#!/usr/bin/env bash
# `promtool check metrics` on a real server's /metrics: integration::metrics runs (a warning and
# a breach, an escalation, a webhook retried, commit batches: every family has samples) and
# writes the body it checked; promtool must then exit 0 and print nothing (no lint findings either).
# promtool is SWITCHBOARD_PROMTOOL (tools/dev test sets it from tools/promtool-setup), else the
# newest one tools/promtool-setup left in the cache; without one the test says it is skipped
# (exit 77, SKIP_RETURN_CODE), so a machine without network still passes the rest.
# Usage: promtool_metrics.sh TESTS_BINARY
set -uo pipefail
tests="$1"
promtool="${SWITCHBOARD_PROMTOOL:-}"
if [ -z "$promtool" ]; then
  promtool=$(ls -1d "${XDG_CACHE_HOME:-$HOME/.cache}"/switchboard/promtool-*/usr/bin/promtool 2>/dev/null | sort -V | tail -1)
fi
if [ -z "$promtool" ] || [ ! -x "$promtool" ]; then
  echo "SKIPPED: no promtool (tools/promtool-setup fetches it; it needs apt and the network)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A run of its own: it is not the suite's run of integration::metrics, so it stays out of the ledger.
if ! env -u SWITCHBOARD_TEST_LEDGER SWITCHBOARD_TEST_METRICS_BODY="$tmp/metrics.txt" \
    "$tests" -ts=integration::metrics >"$tmp/run.log" 2>&1; then
  cat "$tmp/run.log"
  echo "FAIL: integration::metrics failed, so there is no body to check"
  exit 1
fi
if [ ! -s "$tmp/metrics.txt" ]; then
  echo "FAIL: integration::metrics wrote no /metrics body"
  exit 1
fi
"$promtool" check metrics <"$tmp/metrics.txt" >"$tmp/promtool.out" 2>&1
status=$?
if [ $status -ne 0 ] || [ -s "$tmp/promtool.out" ]; then
  echo "FAIL: promtool check metrics exited $status with:"
  cat "$tmp/promtool.out"
  echo "--- the body:"
  cat "$tmp/metrics.txt"
  exit 1
fi
echo "promtool check metrics: $(grep -c '^[^#]' "$tmp/metrics.txt") samples, no findings ($promtool)"

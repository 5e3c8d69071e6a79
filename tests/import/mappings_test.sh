#!/bin/sh
# The Zendesk and Jira mappings (tools/import/*.jq) on the fixture exports give exactly the
# committed import lines, which integration::import imports. Skipped (77) without jq.
set -eu
root=$1
command -v jq >/dev/null 2>&1 || { echo "jq not installed (tools/dev setup installs it)"; exit 77; }
status=0
for pair in zendesk:zendesk_tickets jira:jira_issues; do
  mapping=${pair%%:*}
  fixture=${pair#*:}
  if ! jq -c -f "$root/tools/import/$mapping.jq" "$root/tests/import/$fixture.json" | diff -u "$root/tests/import/$fixture.jsonl" -; then
    echo "tools/import/$mapping.jq on tests/import/$fixture.json differs from tests/import/$fixture.jsonl" >&2
    status=1
  fi
done
exit $status

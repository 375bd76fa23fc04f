#!/usr/bin/env bash
# Runs the README's demo (scripts/demo.sh --no-build) unattended in a temporary folder and
# asserts its key outputs: the first sync of every enabled user, both sides shown (the
# deviating address, the blocked user left alone, the series with its exception, the private
# Outlook item), the Outlook change arriving through the streaming wake-up, the curl
# instructions with a token, a clean stop, and no folder left behind.
#   demo_test.sh SOURCE_DIR AGENDASYNC_BIN EXSIM_BIN
set -uo pipefail
source_dir=$1
export AGENDASYNC_BIN=$2 EXSIM_BIN=$3
tmp=$(mktemp -d -t agendasync-demo-test-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp

out=$(timeout 300 bash "$source_dir/scripts/demo.sh" --no-build 2>&1)
code=$?
failures=0
expect() {  # PATTERN DESCRIPTION
  if ! grep -qE -- "$1" <<<"$out"; then
    echo "FAILED: $2 (no line matches /$1/)"
    failures=$((failures + 1))
  fi
}
expect '^exsim at https://127\.0\.0\.1:[0-9]+' "exsim started"
expect '^agendasync serve listening on http://127\.0\.0\.1:[0-9]+' "the daemon started"
expect '^DMARTINA: synced' "DMARTINA's first sync"
expect '^JDOE: synced' "JDOE's first sync (deviating address)"
expect '^PVRIES: synced' "PVRIES's first sync"
expect '^OLDUSER: never synced \(blocked, R10\)' "the blocked user is left alone"
expect '^john\.doe@contoso\.example:$' "the deviating mailbox is listed"
expect '^  .*Trade fair' "JDOE's all-day item reached the deviating mailbox"
expect '^  .*Weekly stand-up' "the recurring series reached Exchange"
expect 'Doctor \(private\)' "the private Outlook item is shown"
expect '^arrived in the host agenda after [0-9]+ ms' "the Outlook change arrived in the host agenda"
expect '"event":"mailbox_changed".*DMARTINA' "the streaming wake-up is logged"
expect '^token:  ast_' "a token for curl"
expect 'curl -H "Authorization: Bearer ast_' "curl instructions"
# Nothing of OLDUSER's reached Exchange (R10): the line after the mailbox header is another one.
if grep -A1 -E '^olduser@example\.com:$' <<<"$out" | grep -q 'Farewell lunch'; then
  echo "FAILED: the blocked user's appointment reached Exchange"
  failures=$((failures + 1))
fi
if ((code != 0)); then
  echo "FAILED: demo exited with $code"
  failures=$((failures + 1))
fi
leftover=$(find "$tmp" -mindepth 1 -maxdepth 1 -name 'agendasync-demo-*' | wc -l)
if ((leftover != 0)); then
  echo "FAILED: the demo left its folder behind"
  failures=$((failures + 1))
fi
if ((failures)); then
  echo "---- demo output ----"
  echo "$out"
  exit 1
fi
echo "demo: every key output present"

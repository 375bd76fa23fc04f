#!/usr/bin/env bash
# Runs the README's demo (scripts/demo.sh --no-build) unattended in a temporary folder and
# asserts its key outputs: the first sync of every enabled user, both sides shown (the
# deviating address, the blocked user left alone, the series with its exception, the private
# Outlook item), the Outlook change arriving through the streaming wake-up, the curl
# instructions with a token, a clean stop, no folder left behind, and no secret (the service
# account's password, the API token) in any log line of the daemon or exsim.
#   demo_test.sh SOURCE_DIR AGENDASYNC_BIN EXSIM_BIN
set -uo pipefail
source_dir=$1
export AGENDASYNC_BIN=$2 EXSIM_BIN=$3
tmp=$(mktemp -d -t agendasync-demo-test-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp

mkdir "$tmp/logs"
export AGENDASYNC_DEMO_LOG_DIR=$tmp/logs
export AGENDASYNC_DEMO_PASSWORD=demo-test-secret-$RANDOM$RANDOM
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
# The secret scan: the password (given to exsim and written to a 0600 file) and the API token
# (printed once, for curl) never appear in a log; the scan must have seen the daemon's log.
if [[ ! -s "$tmp/logs/serve.log" ]]; then
  echo "FAILED: the daemon's log was not kept for the secret scan"
  failures=$((failures + 1))
fi
token=$(grep -oE 'ast_[A-Za-z0-9_-]+' <<<"$out" | head -1)
if [[ -z "$token" ]]; then
  echo "FAILED: no API token in the output to scan for"
  failures=$((failures + 1))
fi
for secret in "$AGENDASYNC_DEMO_PASSWORD" ${token:+"$token"}; do
  if grep -rlF -- "$secret" "$tmp/logs" >/dev/null; then
    echo "FAILED: a secret (${secret:0:8}...) appears in $(grep -rlF -- "$secret" "$tmp/logs" | xargs -n1 basename | tr '\n' ' ')"
    failures=$((failures + 1))
  fi
done
# The password must not reach the demo's own output either.
if grep -qF -- "$AGENDASYNC_DEMO_PASSWORD" <<<"$out"; then
  echo "FAILED: the service account's password appears in the demo's output"
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

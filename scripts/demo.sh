#!/usr/bin/env bash
# The README's demo command: starts exsim (the Exchange simulator) and `agendasync serve` on a
# SQLite agenda in a temporary folder, with a few users and appointments (one user with a
# deviating Exchange address, one blocked, a recurring series with a moved and a deleted
# occurrence, a private item made in Outlook), runs the first sync, shows both sides, then
# changes an item "in Outlook" and shows it arriving in the host agenda in real time (EWS
# streaming notification). Ends with curl commands to poke at the REST API.
#   scripts/demo.sh             build, run, stop the servers and remove the folder
#   scripts/demo.sh --keep      leave the servers running and keep the folder
#   scripts/demo.sh --no-build  use the binaries already built (AGENDASYNC_BIN, EXSIM_BIN or
#                               build/default); the demo test runs it this way
# For the demo test's secret scan: AGENDASYNC_DEMO_LOG_DIR=DIR copies the daemon's and
# exsim's logs there at the end; AGENDASYNC_DEMO_PASSWORD fixes the service account's password.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

keep=0
build=1
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    --no-build) build=0 ;;
    *) echo "usage: scripts/demo.sh [--keep] [--no-build]" >&2; exit 2 ;;
  esac
done

if ((build)); then
  bash scripts/install-deps.sh
  echo "=== build: agendasync and exsim (default preset)"
  cmake --preset default >/dev/null
  cmake --build --preset default --target agendasync exsim
fi
bin=${AGENDASYNC_BIN:-$root/build/default/src/cli/agendasync}
exsim_bin=${EXSIM_BIN:-$root/build/default/tools/exsim/exsim}

work=$(mktemp -d -t agendasync-demo-XXXXXX)
pids=()
cleanup() {
  local code=$?
  if ((keep == 0 || code != 0)); then
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  fi
  if [[ -n "${AGENDASYNC_DEMO_LOG_DIR:-}" ]]; then
    cp "$work"/*.log "$work"/*.out "$AGENDASYNC_DEMO_LOG_DIR"/ 2>/dev/null || true
  fi
  if ((code != 0)); then
    echo "demo failed (exit $code); logs:" >&2
    tail -n 20 "$work"/*.log >&2 2>/dev/null || true
  fi
  if ((keep == 0)); then rm -rf "$work"; fi
}
trap cleanup EXIT
export AGENDASYNC_CONFIG="$work/agendasync.toml"
as() {
  echo "\$ agendasync $(printf '%q ' "$@")"
  "$bin" "$@"
}
# Waits (at most $2 seconds) until the first line matching $3 appears in file $1; prints it.
wait_for_line() {
  local file=$1 limit=$2 pattern=$3 waited=0
  until grep -m1 -E "$pattern" "$file" 2>/dev/null; do
    if ((waited >= limit * 10)); then
      echo "gave up after ${limit}s waiting for /$pattern/ in $file" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

password=${AGENDASYNC_DEMO_PASSWORD:-demo-$RANDOM$RANDOM}
admin_token=exsim-admin-$RANDOM$RANDOM
echo "=== exsim: an Exchange 2016 with five mailboxes, TLS on 127.0.0.1"
"$exsim_bin" --port 0 --version Exchange2016 --auth basic,ntlm \
  --mailbox dmartina@example.com --mailbox john.doe@contoso.example \
  --mailbox pvries@example.com --mailbox olduser@example.com --mailbox asmith@example.com \
  --account "svc@example.com:$password:impersonation" \
  --tls --tls-ca-out "$work/exsim-ca.pem" --admin-token "$admin_token" \
  >"$work/exsim.out" 2>"$work/exsim.log" &
pids+=($!)
exsim_url=$(wait_for_line "$work/exsim.out" 60 '^https://')
echo "exsim at $exsim_url"
exsim_admin() {  # METHOD PATH [JSON]
  curl -sS --fail --cacert "$work/exsim-ca.pem" -H "X-Exsim-Admin-Token: $admin_token" \
    -H 'Content-Type: application/json' -X "$1" "$exsim_url/exsim/admin/$2" ${3:+--data "$3"}
}

echo
echo "=== a new agenda in $work"
as init --mail-domain example.com
printf '%s\n' "$password" >"$work/exchange-password"
chmod 600 "$work/exchange-password"
cat >"$AGENDASYNC_CONFIG" <<EOF
database = "$work/agenda.db"
[exchange]
backend = "ews"
version = "2016"
url = "$exsim_url/EWS/Exchange.asmx"
auth = "basic"
user = "svc@example.com"
password_file = "$work/exchange-password"
mail_domain = "example.com"
[sync]
direction = "two-way"
[server]
listen = "127.0.0.1"
port = 0
[tls]
ca_bundle = "$work/exsim-ca.pem"
EOF
echo "(configuration: EWS at exsim, service account svc@example.com with impersonation)"

# Dates relative to today, so everything lies inside the first sync's window.
day() { date -u -d "$1" +%Y-%m-%d; }
monday=$(day "next monday")

echo
echo "=== users (one with a deviating Exchange address, one blocked)"
as users add DMARTINA --display-name "Daniela Martina" --sync on
as users add JDOE --display-name "John Doe" --exchange-address john.doe@contoso.example --sync on
as users add PVRIES --display-name "Pieter de Vries" --sync on
as users add OLDUSER --display-name "Former colleague" --blocked
as activity-types add Meeting --default

echo
echo "=== appointments in the host agenda"
as appointments add --subject "Project kick-off" --start "$(day '+2 days')T09:00" \
  --end "$(day '+2 days')T10:30" --zone Europe/Amsterdam --owner DMARTINA --participant JDOE \
  --activity-type Meeting --location "Room 4.12" --reminder 15
as appointments add --subject "Weekly stand-up" --start "${monday}T09:00" --end "${monday}T09:15" \
  --zone "W. Europe Standard Time" --rrule "FREQ=WEEKLY;BYDAY=MO;COUNT=6" \
  --exdate "$(day "$monday +7 days")T09:00" \
  --move "$(day "$monday +14 days")T09:00=$(day "$monday +14 days")T11:00/$(day "$monday +14 days")T11:15" \
  --owner DMARTINA --participant PVRIES --activity-type Meeting
as appointments add --subject "Trade fair" --all-day --start "$(day '+10 days')" \
  --end "$(day '+12 days')" --zone America/New_York --owner JDOE
as appointments add --subject "Farewell lunch" --start "$(day '+3 days')T12:00" \
  --end "$(day '+3 days')T13:00" --zone Europe/Amsterdam --owner OLDUSER

echo
echo "=== in Outlook: PVRIES makes a private appointment (EWS CreateItem, Sensitivity=Private)"
private_start="$(day '+4 days')T14:00:00Z"
private_end="$(day '+4 days')T15:00:00Z"
curl -sS --fail --cacert "$work/exsim-ca.pem" -u "svc@example.com:$password" --basic \
  -H 'Content-Type: text/xml; charset=utf-8' "$exsim_url/EWS/Exchange.asmx" --data @- <<EOF | grep -o 'ResponseClass="[A-Za-z]*"' | head -1
<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"
  xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
<soap:Header><t:RequestServerVersion Version="Exchange2016"/>
<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>pvries@example.com</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></soap:Header>
<soap:Body><m:CreateItem SendMeetingInvitations="SendToNone">
<m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId>
<m:Items><t:CalendarItem><t:Subject>Doctor (private)</t:Subject><t:Sensitivity>Private</t:Sensitivity>
<t:Start>$private_start</t:Start><t:End>$private_end</t:End></t:CalendarItem></m:Items>
</m:CreateItem></soap:Body></soap:Envelope>
EOF

echo
echo "=== the daemon"
as secrets new-key --file "$work/secret.key"
echo "\$ agendasync tokens create --role admin --label demo"
token=$("$bin" tokens create --role admin --label demo)
"$bin" serve --listen 127.0.0.1:0 --secret-key-file "$work/secret.key" \
  --watch-refresh-seconds 2 >"$work/serve.out" 2>"$work/serve.log" &
pids+=($!)
api_url=$(wait_for_line "$work/serve.out" 60 '^listening on ' | sed 's/^listening on //')
echo "agendasync serve listening on $api_url (log: $work/serve.log)"
api() {  # METHOD PATH [JSON]
  curl -sS --fail -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -X "$1" "$api_url$2" ${3:+--data "$3"}
}

echo
echo "=== the first sync (the daemon syncs every enabled user when it starts)"
for user in DMARTINA JDOE PVRIES; do
  waited=0
  until [[ $(api GET "/api/v1/users/$user/status" | jq -r '.runs') -ge 1 ]]; do
    if ((waited >= 600)); then echo "no first sync of $user after 60 s" >&2; exit 1; fi
    sleep 0.1
    waited=$((waited + 1))
  done
  # The first run's line in the daemon's log (later runs are echoes of our own writes).
  jq -R -r --arg user "$user" 'fromjson? | select(.event == "sync_run" and .user == $user)
    | "\(.user): \(.result) - \(.summary // .error)"' "$work/serve.log" | head -1
done
api GET /api/v1/users/OLDUSER/status | jq -r '"OLDUSER: \(.last_outcome // "never synced (blocked, R10)")"'

echo
echo "=== Exchange side (exsim's admin endpoint): each mailbox's calendar"
for mailbox in dmartina@example.com john.doe@contoso.example pvries@example.com olduser@example.com; do
  echo "$mailbox:"
  exsim_admin GET "mailboxes/$mailbox/items" |
    jq -r '.[] | select(.folder == "calendar") | "  \(.start)  \(.subject)\(if .sensitivity then "  [" + .sensitivity + "]" else "" end)"' |
    sort
done

echo
echo "=== host side: the agenda"
as appointments list

echo
echo "=== real time: DMARTINA moves the kick-off in Outlook"
since=0
while :; do
  page=$(api GET "/api/v1/changes?since=$since&limit=1000")
  since=$(jq -r .next <<<"$page")
  [[ $(jq -r .more <<<"$page") == true ]] || break
done
kickoff=$(exsim_admin GET mailboxes/dmartina@example.com/items |
  jq -r '[.[] | select(.subject == "Project kick-off")][0].id')
moved_start="$(day '+2 days')T10:00:00Z"
moved_end="$(day '+2 days')T11:30:00Z"
started=$(date +%s%N)
exsim_admin POST "mailboxes/dmartina@example.com/items/$kickoff/update" \
  "{\"subject\":\"Project kick-off (moved in Outlook)\",\"start\":\"$moved_start\",\"end\":\"$moved_end\"}" >/dev/null
echo "changed in Outlook at $(date -u +%H:%M:%S.%3N); waiting for the host change feed..."
arrived=""
for _ in $(seq 1 600); do
  for id in $(api GET "/api/v1/changes?since=$since" | jq -r '.changes[] | select(.entity == "appointment") | .id'); do
    subject=$(api GET "/api/v1/appointments/$id" | jq -r .subject)
    if [[ $subject == "Project kick-off (moved in Outlook)" ]]; then arrived=$id; fi
  done
  [[ -n $arrived ]] && break
  sleep 0.1
done
if [[ -z $arrived ]]; then echo "the change did not arrive within 60 s" >&2; exit 1; fi
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
echo "arrived in the host agenda after ${elapsed_ms} ms: appointment $arrived"
api GET "/api/v1/appointments/$arrived" | jq -c '{id: .id, subject: .subject, start: .start, "end": .end, owner: .owner, participants: .participants}'
echo "daemon log (streaming wake-up, then the sync it caused):"
# The last wake-up and the run right after it (the daemon may run the pair once more after
# that: it follows the agenda's change feed, and the run wrote the change there).
grep -E '"event":"(mailbox_changed|sync_run)"' "$work/serve.log" | grep DMARTINA |
  awk '/"event":"mailbox_changed"/ { last = $0; next_run = ""; want = 1; next }
       want && /"event":"sync_run"/ { next_run = $0; want = 0 }
       END { if (last != "") print last; if (next_run != "") print next_run }'

echo
echo "=== poke at it"
cat <<EOF
API:    $api_url   (OpenAPI: $api_url/api/v1/openapi.json)
token:  $token   (admin; make others with: agendasync tokens create --role integration)
  export AGENDASYNC_CONFIG=$AGENDASYNC_CONFIG
  curl -H "Authorization: Bearer $token" $api_url/api/v1/users
  curl -H "Authorization: Bearer $token" "$api_url/api/v1/changes?since=0"
  curl -H "Authorization: Bearer $token" $api_url/api/v1/users/DMARTINA/status
  curl -X POST -H "Authorization: Bearer $token" $api_url/api/v1/users/DMARTINA/sync-now
  curl -H "Authorization: Bearer $token" $api_url/metrics
Outlook (exsim admin): curl --cacert $work/exsim-ca.pem -H "X-Exsim-Admin-Token: $admin_token" $exsim_url/exsim/admin/mailboxes/dmartina@example.com/items
EOF
if ((keep)); then
  echo
  echo "Kept: $work; servers running (pids ${pids[*]}): stop them with kill ${pids[*]}"
else
  echo
  echo "Stopping (SIGTERM: running syncs finish first)."
fi

#!/usr/bin/env bash
# Runs inside mmdebstrap's customize hook, on the host, with the new Debian 12 root at $1
# (/proc, /sys and /dev mounted in it). Installs the packages as an operator would and checks
# what issue 19 promises. Environment: PKG_DEBS (folder of the .deb files), PKG_FIXTURE (the
# previous-schema agenda as SQL), PKG_LOG (folder for logs kept on failure).
set -euo pipefail
root=$1
debs=$PKG_DEBS
log=$PKG_LOG
unit=/lib/systemd/system/agendasync.service
conf=/etc/agendasync/agendasync.toml

# Processes started here (serve, exsim, the notify listener) end with the script, also when a
# check fails: mmdebstrap must be able to unmount the root afterwards.
started=()
stop_started() { for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_started EXIT
step() { echo "=== $(date -u +%T) in root: $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
in_root() { chroot "$root" "$@"; }
# A command as the service user, the way the unit runs it (setpriv execs: no extra process).
as_service() { in_root setpriv --reuid=agendasync --regid=agendasync --init-groups "$@"; }
expect_contains() {  # TEXT NEEDLE WHAT
  grep -qF -- "$2" <<<"$1" || { printf '%s\n' "$1" >&2; fail "$3: expected \"$2\""; }
}

mkdir -p "$root/tmp/debs"
cp "$debs"/*.deb "$root/tmp/debs/"
agendasync_deb=$(cd "$root/tmp/debs" && ls agendasync_*.deb)
exsim_deb=$(cd "$root/tmp/debs" && ls exsim_*.deb)

step "apt-get install ./$agendasync_deb ./$exsim_deb (dependencies from Debian's mirror)"
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  "/tmp/debs/$agendasync_deb" "/tmp/debs/$exsim_deb" >"$log/apt-install.log" 2>&1 ||
  { tail -30 "$log/apt-install.log" >&2; fail "apt-get install"; }

step "what the package put in place"
version=$(in_root agendasync --version)
expect_contains "$version" "agendasync " "agendasync --version"
in_root agendasync version >/dev/null
in_root getent passwd agendasync >/dev/null || fail "no agendasync user (sysusers.d)"
[[ $(in_root stat -c '%U:%G %a' /var/lib/agendasync) == "agendasync:agendasync 750" ]] ||
  fail "/var/lib/agendasync is $(in_root stat -c '%U:%G %a' /var/lib/agendasync) (tmpfiles.d)"
[[ $(in_root stat -c '%U %a' /etc/agendasync/secret.key) == "root 600" ]] ||
  fail "the key ring is not root's alone: $(in_root stat -c '%U %a' /etc/agendasync/secret.key)"
as_service test ! -r /etc/agendasync/secret.key || fail "the service user can read the key ring"
grep -qx "$conf" "$root/var/lib/dpkg/info/agendasync.conffiles" || fail "$conf is not a conffile"
[[ -f $root/usr/share/man/man1/agendasync.1.gz && -f $root/usr/share/man/man1/exsim.1.gz ]] ||
  fail "no man pages"
in_root exsim --help >/dev/null || fail "exsim --help"

step "systemd-analyze verify and security --offline on the installed unit"
# --man=no: a minbase root has no man-db to resolve Documentation=man:agendasync(1) with; the
# page itself is checked above.
in_root systemd-analyze verify --man=no "$unit" >"$log/verify.log" 2>&1 ||
  { cat "$log/verify.log" >&2; fail "systemd-analyze verify"; }
# Anything systemd-analyze verify prints is a finding (it exits 0 on some warnings).
if grep -v '^$' "$log/verify.log" | grep -q .; then
  cat "$log/verify.log" >&2
  fail "systemd-analyze verify reported findings"
fi
# 2.0 = "OK" on systemd's 0 (safe) .. 10 (exposed) scale; --threshold is that times 10.
in_root systemd-analyze security --offline=true --threshold=20 "$unit" >"$log/security.log" 2>&1 ||
  { tail -5 "$log/security.log" >&2; fail "systemd-analyze security above 2.0"; }
tail -1 "$log/security.log"

step "init as the service user, then serve by the unit's ExecStart"
# The local change an operator makes; upgrades must keep it (conffile). Port 0: any free port,
# the host's 8080 may be taken.
sed -i 's/^port = 8080$/port = 0/; s/^#log_level = "info"$/log_level = "info"/' "$root$conf"
grep -q '^port = 0$' "$root$conf" || fail "the packaged configuration has no 'port = 8080' line"
out=$(as_service sh -c "cd /var/lib/agendasync && agendasync init --mail-domain example.com")
expect_contains "$out" "Kept the configuration $conf" "init"
[[ -f $root/var/lib/agendasync/agenda.db ]] || fail "init made no /var/lib/agendasync/agenda.db"

exec_start=$(sed -n 's/^ExecStart=//p' "$root$unit")
user=$(sed -n 's/^User=//p' "$root$unit")
workdir=$(sed -n 's/^WorkingDirectory=//p' "$root$unit")
environment=$(sed -n 's/^Environment=//p' "$root$unit")
credential=$(sed -n 's/^LoadCredential=//p' "$root$unit")
[[ $user == agendasync && -n $exec_start && -n $credential ]] || fail "unit lacks User/ExecStart/LoadCredential"
# LoadCredential= as systemd does it: a private copy, owned by the service user, read-only.
credentials=/run/credentials/agendasync.service
mkdir -p "$root$credentials"
cp "$root${credential#*:}" "$root$credentials/${credential%%:*}"
in_root chown -R agendasync:agendasync "$credentials"
chmod 0400 "$root$credentials/${credential%%:*}"
command=${exec_start//'${CREDENTIALS_DIRECTORY}'/$credentials}

# systemd's side of sd_notify: a datagram socket in the root that records every message.
notify_socket=/run/agendasync-notify.sock
python3 - "$root$notify_socket" "$log/notify.log" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
import os; os.chmod(sys.argv[1], 0o777)
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode() + "\n--\n")
EOF
notify_pid=$!
started+=("$notify_pid")
for _ in $(seq 50); do [[ -S $root$notify_socket ]] && break; sleep 0.1; done

start_serve() {
  # WATCHDOG_USEC as systemd sets it for WatchdogSec=; 2 s so the test sees pings quickly.
  chroot "$root" setpriv --reuid="$user" --regid="$user" --init-groups \
    env -i PATH=/usr/bin:/bin $environment CREDENTIALS_DIRECTORY=$credentials \
    NOTIFY_SOCKET=$notify_socket WATCHDOG_USEC=2000000 \
    sh -c "cd $workdir && exec $command" >"$log/serve.out" 2>"$log/serve.log" &
  serve_pid=$!
  started+=("$serve_pid")
  for _ in $(seq 300); do
    grep -q '^listening on ' "$log/serve.out" 2>/dev/null && break
    kill -0 "$serve_pid" 2>/dev/null || { cat "$log/serve.log" >&2; fail "serve exited"; }
    sleep 0.1
  done
  api=$(sed -n 's/^listening on //p' "$log/serve.out")
  [[ -n $api ]] || { cat "$log/serve.log" >&2; fail "serve never listened"; }
}
stop_serve() {
  kill -TERM "$serve_pid"
  wait "$serve_pid" || fail "serve did not exit 0 after SIGTERM"
}
start_serve
[[ $(awk '/^Uid:/ {print $2}' "/proc/$serve_pid/status") == $(in_root id -u agendasync) ]] ||
  fail "serve does not run as agendasync"
health=$(curl -fsS "$api/healthz") || fail "GET /healthz"
echo "GET $api/healthz: $health"
sleep 2.5  # more than one watchdog period
grep -q 'READY=1' "$log/notify.log" || fail "no READY=1"
grep -q 'STATUS=listening on http' "$log/notify.log" || fail "READY=1 did not say where it listens"
grep -q 'WATCHDOG=1' "$log/notify.log" || fail "no WATCHDOG=1 within 2.5 s (WatchdogSec 2 s)"

step "SIGHUP: log_level applies, [tls] reloads, a [server] change is reported as needing a restart"
sed -i 's/^log_level = "info"$/log_level = "warn"/; s/^#max_connections = 1024$/max_connections = 99/' \
  "$root$conf"
kill -HUP "$serve_pid"
for _ in $(seq 50); do grep -q '"event":"reload_needs_restart"' "$log/serve.log" && break; sleep 0.1; done
grep -q '"event":"reload_needs_restart".*\[server\]' "$log/serve.log" ||
  { cat "$log/serve.log" >&2; fail "SIGHUP: no reload_needs_restart naming [server]"; }
# Back to info (so the reload's info lines show) with a CA bundle: the trust reloads.
sed -i 's/^log_level = "warn"$/log_level = "info"/;
        s|^ca_bundle = ""$|ca_bundle = "/etc/ssl/certs/ca-certificates.crt"|' "$root$conf"
kill -HUP "$serve_pid"
for _ in $(seq 50); do grep -q '"event":"tls_trust_reloaded"' "$log/serve.log" && break; sleep 0.1; done
grep -q '"event":"tls_trust_reloaded"' "$log/serve.log" ||
  { cat "$log/serve.log" >&2; fail "SIGHUP: the [tls] ca_bundle change was not reloaded"; }
grep '"event":"reload_needs_restart"' "$log/serve.log" | grep -q '\[tls\]' &&
  fail "SIGHUP: [tls] reported as needing a restart"
grep -q 'RELOADING=1' "$log/notify.log" || fail "SIGHUP: no RELOADING=1"
curl -fsS "$api/healthz" >/dev/null || fail "GET /healthz after SIGHUP"
stop_serve
grep -q 'STOPPING=1' "$log/notify.log" || fail "no STOPPING=1"
kill "$notify_pid" 2>/dev/null || true
# Back to what the rest of the test expects.
sed -i 's/^max_connections = 99$/#max_connections = 1024/;
        s|^ca_bundle = "/etc/ssl/certs/ca-certificates.crt"$|ca_bundle = ""|' "$root$conf"

step "backup and restore (SQLite's backup API)"
as_service agendasync users add carol >/dev/null
as_service agendasync backup --to /var/lib/agendasync/backups/manual >/dev/null
[[ -f $root/var/lib/agendasync/backups/manual/agenda.db ]] || fail "backup wrote no agenda.db"
as_service agendasync users add dave >/dev/null
as_service agendasync restore --from /var/lib/agendasync/backups/manual >/dev/null
users=$(as_service agendasync users list)
grep -qi 'carol' <<<"$users" || fail "restore lost carol: $users"
grep -qi 'dave' <<<"$users" && fail "restore kept dave, added after the backup"

step "upgrade: an agenda of the previous schema is migrated by the package's install step"
# A node whose agenda was made by the previous schema version (tests/package/fixtures).
rm -f "$root"/var/lib/agendasync/agenda.*
cp "$PKG_FIXTURE" "$root/tmp/fixture.sql"
as_service sqlite3 /var/lib/agendasync/agenda.db ".read /tmp/fixture.sql"
[[ $(as_service sqlite3 /var/lib/agendasync/agenda.db 'PRAGMA user_version') == 3 ]] ||
  fail "the fixture is not schema 3"
before=$(as_service sqlite3 /var/lib/agendasync/agenda.db \
  'SELECT count(*) FROM appointments; SELECT count(*) FROM users; SELECT max(revision) FROM changes;')
supported=$(in_root agendasync --database /nonexistent/a.db migrate --status | sed -n 's/^supported: //p')
# Reinstalling is an upgrade to dpkg: preinst upgrade, prerm upgrade, postinst configure.
in_root dpkg -i "/tmp/debs/$agendasync_deb" >"$log/upgrade.log" 2>&1 ||
  { cat "$log/upgrade.log" >&2; fail "dpkg -i (upgrade)"; }
cat "$log/upgrade.log" | grep -E 'schema|backup' || true
grep -q '^port = 0$' "$root$conf" || fail "the upgrade lost the local change to $conf"
[[ $(as_service sqlite3 /var/lib/agendasync/agenda.db 'PRAGMA user_version') == "$supported" ]] ||
  fail "the agenda was not migrated to schema $supported"
after=$(as_service sqlite3 /var/lib/agendasync/agenda.db \
  'SELECT count(*) FROM appointments; SELECT count(*) FROM users; SELECT max(revision) FROM changes;')
[[ $before == "$after" ]] || fail "data changed by the migration: $before -> $after"
backup=$(ls -d "$root"/var/lib/agendasync/backups/before-* | head -1)
[[ -f $backup/agenda.db ]] || fail "no backup before the migration"
[[ $(as_service sqlite3 "${backup#"$root"}/agenda.db" 'PRAGMA user_version') == 3 ]] ||
  fail "the backup is not the schema-3 agenda"

step "the next sync changes nothing: exsim in the root, sync, take the agenda back to schema 3, upgrade, sync"
in_root sh -c 'printf "%s\n" exsim-password >/etc/agendasync/exchange-password'
in_root chgrp agendasync /etc/agendasync/exchange-password
chmod 0640 "$root/etc/agendasync/exchange-password"
chroot "$root" exsim --port 0 --version Exchange2016 --auth basic --mailbox alice@example.com \
  --account svc@example.com:exsim-password:impersonation --tls --tls-ca-out /tmp/exsim-ca.pem \
  >"$log/exsim.out" 2>"$log/exsim.log" &
exsim_pid=$!
started+=("$exsim_pid")
for _ in $(seq 100); do grep -q '^https://' "$log/exsim.out" 2>/dev/null && break; sleep 0.1; done
exsim_url=$(grep -m1 '^https://' "$log/exsim.out") || fail "exsim did not start"
chmod 0644 "$root/tmp/exsim-ca.pem"
sed -i "s|^backend = \"none\"$|backend = \"ews\"|; s|^url = \"\"$|url = \"$exsim_url/EWS/Exchange.asmx\"|;
        s|^auth = \"ntlm\"$|auth = \"basic\"|; s|^user = \"\"$|user = \"svc@example.com\"|;
        s|^# *password_file = .*|password_file = \"/etc/agendasync/exchange-password\"|;
        s|^mail_domain = \"\"$|mail_domain = \"example.com\"|;
        s|^ca_bundle = \"\"$|ca_bundle = \"/tmp/exsim-ca.pem\"|" "$root$conf"
# Two appointments in the window whatever the date the test runs on (the fixture's open-ended
# series is in it too).
for days in 2 9; do
  day=$(date -u -d "+$days days" +%F)
  as_service agendasync appointments add --subject "Visit in $days days" --start "${day}T10:00" \
    --end "${day}T11:00" --zone Europe/Amsterdam --owner alice >/dev/null
done
first=$(as_service sh -c 'cd /var/lib/agendasync && agendasync sync' 2>&1) ||
  { printf '%s\n' "$first" >&2; grep -nE '^(backend|url|auth|user|password_file|mail_domain|ca_bundle) ' "$root$conf" >&2; fail "first sync"; }
echo "$first"
expect_contains "$first" "synced" "first sync"
grep -qE 'remote: ([3-9]|[1-9][0-9]+) created' <<<"$first" ||
  fail "the first sync wrote fewer than 3 items to exsim: nothing for the next sync to keep"
# Back to schema 3: migration 5 (the directory revision's table and triggers) and migration 4
# (users.backend) taken away, as src/store/test_support.h's kUndoMigration5 does.
as_service sqlite3 /var/lib/agendasync/agenda.db \
  'DROP TRIGGER directory_users_insert; DROP TRIGGER directory_users_update;
   DROP TRIGGER directory_users_delete; DROP TRIGGER directory_organisation_settings_insert;
   DROP TRIGGER directory_organisation_settings_update;
   DROP TRIGGER directory_organisation_settings_delete;
   DROP TRIGGER directory_activity_types_insert; DROP TRIGGER directory_activity_types_update;
   DROP TRIGGER directory_activity_types_delete; DROP TABLE directory_revision;
   ALTER TABLE users DROP COLUMN backend; PRAGMA user_version = 3;'
in_root dpkg -i "/tmp/debs/$agendasync_deb" >"$log/upgrade2.log" 2>&1 ||
  { cat "$log/upgrade2.log" >&2; fail "dpkg -i (second upgrade)"; }
[[ $(ls -d "$root"/var/lib/agendasync/backups/before-* | wc -l) -ge 2 ]] || fail "no second backup"
next=$(as_service sh -c 'cd /var/lib/agendasync && agendasync sync' 2>&1) ||
  { printf '%s\n' "$next" >&2; fail "sync after the upgrade"; }
echo "$next"
grep -q 'synced' <<<"$next" || fail "the sync after the upgrade did not run"
if grep -E 'synced|partial' <<<"$next" | grep -vqE \
    ': 0 created, 0 updated, 0 deleted; [a-z]+: 0 created, 0 updated, 0 deleted; 0 linked, 0 conflict'; then
  fail "the sync after the upgrade changed something"
fi
kill "$exsim_pid" 2>/dev/null || true
wait "$exsim_pid" 2>/dev/null || true

step "a downgrade across the schema is refused before anything is replaced"
as_service sqlite3 /var/lib/agendasync/agenda.db "PRAGMA user_version = $((supported + 1))"
if in_root dpkg -i "/tmp/debs/$agendasync_deb" >"$log/downgrade.log" 2>&1; then
  fail "dpkg -i over a newer schema succeeded"
fi
grep -q "refusing to replace agendasync" "$log/downgrade.log" ||
  { cat "$log/downgrade.log" >&2; fail "the refusal does not say why"; }
grep 'refusing' "$log/downgrade.log"
[[ $(in_root dpkg-query -W -f='${Status}' agendasync) == "install ok installed" ]] ||
  fail "the refused downgrade left agendasync $(in_root dpkg-query -W -f='${Status}' agendasync)"
as_service sqlite3 /var/lib/agendasync/agenda.db "PRAGMA user_version = $supported"

step "purge keeps /var/lib/agendasync unless asked"
rm -f "$root/etc/agendasync/exchange-password"  # the operator's own file, not the package's
in_root dpkg --purge agendasync >"$log/purge.log" 2>&1 || { cat "$log/purge.log" >&2; fail "purge"; }
for gone in /usr/bin/agendasync "$unit" "$conf" /usr/lib/sysusers.d/agendasync.conf \
    /usr/lib/tmpfiles.d/agendasync.conf; do
  [[ ! -e $root$gone ]] || fail "purge left $gone"
done
[[ -f $root/var/lib/agendasync/agenda.db ]] || fail "purge removed the agenda without being asked"
[[ -f $root/etc/agendasync/secret.key ]] || fail "purge removed the key ring of the kept data"
in_root dpkg -i "/tmp/debs/$agendasync_deb" >"$log/reinstall.log" 2>&1 ||
  { cat "$log/reinstall.log" >&2; fail "reinstall over kept data"; }
in_root env AGENDASYNC_PURGE_DATA=yes dpkg --purge agendasync >>"$log/purge.log" 2>&1 ||
  { cat "$log/purge.log" >&2; fail "purge with AGENDASYNC_PURGE_DATA=yes"; }
[[ ! -e $root/var/lib/agendasync && ! -e $root/etc/agendasync ]] ||
  fail "AGENDASYNC_PURGE_DATA=yes left /var/lib/agendasync or /etc/agendasync"
step "all checks passed"

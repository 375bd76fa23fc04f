# Sourced by the test and demo scripts: starts the real servers the tests talk to, on
# loopback, in throw-away directories, and stops them on exit.
# Exports AGENDASYNC_TEST_PG (a libpq connection string) and AGENDASYNC_TEST_CALDAV (a URL).

_services_dir=""
stop_test_services() {
  [[ -n "$_services_dir" ]] || return 0
  if [[ -f "$_services_dir/pg/postmaster.pid" ]]; then
    su postgres -s /bin/sh -c "/usr/lib/postgresql/15/bin/pg_ctl -D '$_services_dir/pg' -m fast stop" >/dev/null 2>&1 || true
  fi
  rm -rf "$_services_dir"
}

start_test_services() {
  _services_dir=$(mktemp -d /tmp/agendasync-services.XXXXXX)
  chmod 755 "$_services_dir"
  trap stop_test_services EXIT
  local pgbin=/usr/lib/postgresql/15/bin
  if [[ -x $pgbin/initdb ]]; then
    local port
    port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$_services_dir/pg" "$_services_dir/pglog" && chown postgres "$_services_dir/pg" "$_services_dir/pglog"
    su postgres -s /bin/sh -c "$pgbin/initdb -D '$_services_dir/pg' -A trust -U postgres" >/dev/null
    # max_connections: three `serve` nodes hold ~90 connections (pools per organisation, LISTEN),
    # and the test command runs two multi-node tests at once (ctest -j2).
    su postgres -s /bin/sh -c "$pgbin/pg_ctl -D '$_services_dir/pg' -o '-p $port -k $_services_dir/pg -c listen_addresses=127.0.0.1 -c max_connections=300' -l '$_services_dir/pglog/postgres.log' -w start" >/dev/null
    export AGENDASYNC_TEST_PG="host=127.0.0.1 port=$port user=postgres dbname=postgres"
    echo "services: PostgreSQL on 127.0.0.1:$port"
  fi
}

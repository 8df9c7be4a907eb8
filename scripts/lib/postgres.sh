# Sourced by the benchmarks that need a PostgreSQL 15 server: Debian's, started as `nobody`
# (PostgreSQL refuses root) on a private socket directory, no TCP, stopped by PID.
#   pg_start DIR     initdb into DIR/data, start, wait until it answers; sets pg_pid
#   pg_stop          fast shutdown of the server pg_start started
#   pg_sql SQL       runs SQL as the superuser in the postgres database
#   pg_url DB        the libpq URI of database DB on it
pgbin=/usr/lib/postgresql/15/bin
pg_pid=""
pg_dir=""
pg_start() {
  pg_dir=$1
  chown nobody:nogroup "$pg_dir"
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$pgbin/initdb" -D "$pg_dir/data" -U wardgate -A trust -E UTF8 \
    --locale=C >"$pg_dir/initdb.log"
  # setpriv execs the server, so $! is the server's PID
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$pgbin/postgres" -D "$pg_dir/data" -k "$pg_dir" \
    -c listen_addresses= >"$pg_dir/server.log" 2>&1 &
  pg_pid=$!
  for _ in $(seq 300); do "$pgbin/pg_isready" -q -h "$pg_dir" -U wardgate && return 0; sleep 0.1; done
  echo "PostgreSQL did not start: $(tail -5 "$pg_dir/server.log")" >&2
  return 1
}
pg_stop() {
  if [[ -n $pg_pid ]]; then kill -INT "$pg_pid" 2>/dev/null || true; wait "$pg_pid" 2>/dev/null || true; fi
  pg_pid=""
}
pg_sql() { "$pgbin/psql" -q -h "$pg_dir" -U wardgate -d postgres -c "$1" >/dev/null; }
pg_url() { echo "postgresql:///$1?host=$pg_dir&user=wardgate"; }

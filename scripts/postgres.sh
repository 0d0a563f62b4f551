#!/usr/bin/env bash
# A PostgreSQL database for the Prefect server: Debian's postgresql, on 127.0.0.1 only,
# data in a folder this script owns (for fleets that outgrow SQLite's single writer).
#
#   scripts/postgres.sh up       # create the cluster (first time), start it, print the URL
#   scripts/postgres.sh down     # stop it; the data stays in the folder
#   scripts/postgres.sh status   # running or not, and the URL
#   scripts/postgres.sh url      # the SQLAlchemy URL for PREFECT_SERVER_DATABASE_CONNECTION_URL
#
# Settings (environment): SPLINE_PG_DIR (.local_stack/postgres), SPLINE_PG_PORT (5433),
# SPLINE_PG_DATABASE (prefect). The role `spline` gets a random password kept in
# $SPLINE_PG_DIR/password (mode 600); connections need it (scram-sha-256), also on loopback.
# initdb refuses to run as root: as root the server runs as the `postgres` user.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | cut -c3-; exit 0 ;; esac  # the header
repo="$(cd "$(dirname "$0")/.." && pwd)"

dir="${SPLINE_PG_DIR:-$repo/.local_stack/postgres}"
port="${SPLINE_PG_PORT:-5433}"
database="${SPLINE_PG_DATABASE:-prefect}"
role=spline

log() { echo "postgres: $*" >&2; }

bindir() {  # the newest installed PostgreSQL's programs, installing them as root if missing
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -z "$found" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Debian's postgresql"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql \
      >/dev/null
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  fi
  if [ -z "$found" ]; then
    log "PostgreSQL is not installed: apt-get install postgresql (as root), then re-run"
    return 1
  fi
  echo "$found"
}

as_owner() {  # run a server program as the cluster's owner (never root)
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() {
  echo "postgresql+asyncpg://$role:$(cat "$dir/password")@127.0.0.1:$port/$database"
}

running() {
  [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

init_cluster() {
  mkdir -p "$dir/run"
  umask 077
  "$repo/.venv/bin/python" -c "import secrets; print(secrets.token_urlsafe(24))" \
    > "$dir/password" 2>/dev/null || head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$dir/password"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { log "no postgres user to run the server as"; return 1; }
    chown -R postgres: "$dir"
    runuser -u postgres -- test -w "$dir" || {
      log "the postgres user cannot reach $dir (a parent folder is closed to others): set" \
          "SPLINE_PG_DIR to a folder under one it can enter"; return 1; }
  fi
  log "creating a cluster in $dir/data"
  as_owner "$bin/initdb" -D "$dir/data" -U "$role" --pwfile="$dir/password" \
    --auth=scram-sha-256 -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
      tail -20 "$dir/initdb.log" >&2; rm -rf "$dir/data"; return 1; }
}

up() {
  if [ ! -f "$dir/data/PG_VERSION" ]; then init_cluster; fi
  if ! running; then
    log "starting on 127.0.0.1:$port"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/run" start >/dev/null || {
        tail -20 "$dir/postgres.log" >&2; return 1; }
  fi
  export PGPASSWORD; PGPASSWORD="$(cat "$dir/password")"
  if ! "$bin/psql" -h 127.0.0.1 -p "$port" -U "$role" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$role" "$database"
  fi
  url
}

down() {
  if running; then
    log "stopping"
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  fi
}

status() {
  if running; then echo "postgres: running on 127.0.0.1:$port ($dir)"; url
  else echo "postgres: stopped ($dir)"; fi
}

bin="$(bindir)"
case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  url) url ;;
  *) echo "usage: $0 up|down|status|url" >&2; exit 2 ;;
esac

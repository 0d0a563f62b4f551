#!/usr/bin/env bash
# A local Prefect stack for Spline-LSTM: server (127.0.0.1, SQLite under $PREFECT_HOME),
# a process work pool, the deployments of prefect.yaml, a worker, and an MLflow tracking
# server + model registry (scripts/mlflow_server.sh: 127.0.0.1:5000, SQLite and artifacts
# under .local_stack/mlflow) that the worker's runs are tracked in.
#
#   scripts/local_stack.sh up      # start everything; returns once all of it is ready
#   scripts/local_stack.sh up --postgres  # the same, the server's database in PostgreSQL
#   scripts/local_stack.sh down    # stop exactly the processes `up` started
#   scripts/local_stack.sh status  # what is running
#
# --postgres (or SPLINE_PREFECT_DATABASE=postgres) starts scripts/postgres.sh's cluster
# (loopback, data under .local_stack/postgres) and points the server at it: SQLite allows
# one writer at a time, which fleets with stage tags (a concurrency lease per task) outgrow.
# Runs, deployments and schedules live in the database they were created in.
#
# Settings (environment): SPLINE_PREFECT_PORT (4200), PREFECT_HOME (.local_stack/prefect),
# SPLINE_WORK_POOL (spline-process), SPLINE_ARTIFACTS_DIR (./artifacts),
# SPLINE_RETRAIN_INPUT (tests/data/co2_weekly.csv: point it at your real series),
# SPLINE_MLFLOW (on; off: no MLflow server, runs track into ARTIFACTS_DIR/mlflow/mlflow.db),
# SPLINE_MLFLOW_PORT (5000), SPLINE_MLFLOW_DIR (.local_stack/mlflow).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | cut -c3-; exit 0 ;; esac  # the header
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

port="${SPLINE_PREFECT_PORT:-4200}"
export PREFECT_HOME="${PREFECT_HOME:-$repo/.local_stack/prefect}"
export PREFECT_API_URL="http://127.0.0.1:${port}/api"
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_SERVER_API_HOST=127.0.0.1
export SPLINE_PROJECT_DIR="$repo"
export SPLINE_WORK_POOL="${SPLINE_WORK_POOL:-spline-process}"
export SPLINE_ARTIFACTS_DIR="${SPLINE_ARTIFACTS_DIR:-$repo/artifacts}"
export SPLINE_RETRAIN_INPUT="${SPLINE_RETRAIN_INPUT:-$repo/tests/data/co2_weekly.csv}"
state="$PREFECT_HOME/local_stack"
prefect_bin="$repo/.venv/bin/prefect"
python_bin="$repo/.venv/bin/python"

log() { echo "local_stack: $*" >&2; }
# shellcheck source=scripts/process_group.sh
source "$repo/scripts/process_group.sh"

alive() {  # alive NAME: the process recorded in NAME.pid is running
  [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null
}

start() {  # start NAME CMD...: in its own session, so `down` can stop the whole group
  local name="$1"; shift
  setsid "$@" >"$state/$name.log" 2>&1 < /dev/null &
  echo $! >"$state/$name.pid"
}

wait_for() {  # wait_for SECONDS DESCRIPTION CMD...
  local deadline=$((SECONDS + $1)); local what="$2"; shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then log "timed out waiting for $what"; return 1; fi
    sleep 1
  done
}

server_healthy() {
  "$python_bin" -c "import urllib.request, sys; urllib.request.urlopen('$PREFECT_API_URL/health', timeout=2)"
}

worker_online() {
  "$python_bin" - <<'PY'
import os, sys
from prefect.client.orchestration import get_client
with get_client(sync_client=True) as client:
    workers = client.read_workers_for_work_pool(os.environ["SPLINE_WORK_POOL"])
sys.exit(0 if any(str(w.status).upper().endswith("ONLINE") for w in workers) else 1)
PY
}

up() {
  scripts/bootstrap.sh
  mkdir -p "$state" "$SPLINE_ARTIFACTS_DIR"
  if alive server && alive worker; then
    log "already running"; echo "PREFECT_API_URL=$PREFECT_API_URL"
    if [ -f "$state/mlflow" ]; then echo "MLFLOW_TRACKING_URI=$(scripts/mlflow_server.sh up)"; fi
    return 0
  fi
  if [ "$database" = postgres ]; then
    PREFECT_SERVER_DATABASE_CONNECTION_URL="$(scripts/postgres.sh up)" || {
      log "PostgreSQL did not start (see above)"; return 1; }
    export PREFECT_SERVER_DATABASE_CONNECTION_URL
    touch "$state/postgres"  # so `down` stops it too
  fi
  if [ "${SPLINE_MLFLOW:-on}" = on ]; then
    MLFLOW_TRACKING_URI="$(scripts/mlflow_server.sh up)" || { log "MLflow did not start"; down; return 1; }
    export MLFLOW_TRACKING_URI  # the worker, and so every deployment run, tracks here
    touch "$state/mlflow"
  fi
  log "starting the Prefect server on 127.0.0.1:$port (PREFECT_HOME=$PREFECT_HOME, database: $database)"
  # Prefect's `prefect server start`, its garbage collection kept off the event loop
  # (flows/server_app.py: a SQLite server could freeze for 60 s without it)
  start server "$repo/.venv/bin/python" -m flows.server_app server start --host 127.0.0.1 \
    --port "$port"
  wait_for 120 "the server" server_healthy || {
    tail -20 "$state/server.log" >&2; down; return 1; }
  log "work pool $SPLINE_WORK_POOL"
  "$prefect_bin" work-pool inspect "$SPLINE_WORK_POOL" >/dev/null 2>&1 || \
    "$prefect_bin" work-pool create "$SPLINE_WORK_POOL" --type process >/dev/null
  log "deploying prefect.yaml (e2e/smoke, e2e/retrain)"
  "$prefect_bin" --no-prompt deploy --all >"$state/deploy.log" 2>&1 || {
    tail -30 "$state/deploy.log" >&2; down; return 1; }
  log "starting a worker"
  start worker "$prefect_bin" worker start --pool "$SPLINE_WORK_POOL" --type process
  wait_for 90 "the worker" worker_online || { tail -20 "$state/worker.log" >&2; down; return 1; }
  log "ready"
  echo "PREFECT_API_URL=$PREFECT_API_URL"
  if [ -f "$state/mlflow" ]; then echo "MLFLOW_TRACKING_URI=$MLFLOW_TRACKING_URI"; fi
}

down() {
  for name in worker server; do
    if alive "$name"; then
      pid="$(cat "$state/$name.pid")"
      log "stopping $name (pid $pid)"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 10); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      # Prefect's worker answers SIGTERM by interrupting itself and then waits; a second
      # signal is what ends it (it used to sit out the whole wait below before SIGKILL)
      kill -INT "$pid" 2>/dev/null || true
      for _ in $(seq 1 10); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill_group "$pid" || log "$name (process group $pid) still runs after SIGKILL"
    fi
    rm -f "$state/$name.pid"
  done
  if [ -f "$state/postgres" ]; then scripts/postgres.sh down; rm -f "$state/postgres"; fi
  if [ -f "$state/mlflow" ]; then scripts/mlflow_server.sh down; rm -f "$state/mlflow"; fi
}

status() {
  for name in server worker; do
    if alive "$name"; then echo "$name: running (pid $(cat "$state/$name.pid"))"; else echo "$name: stopped"; fi
  done
  if [ -f "$state/postgres" ]; then scripts/postgres.sh status | head -1; fi
  if [ -f "$state/mlflow" ]; then scripts/mlflow_server.sh status; fi
  echo "PREFECT_API_URL=$PREFECT_API_URL"
}

database="${SPLINE_PREFECT_DATABASE:-sqlite}"
if [ "${2:-}" = --postgres ]; then database=postgres
elif [ -n "${2:-}" ]; then echo "usage: $0 up [--postgres] | down | status" >&2; exit 2; fi
case "$database" in sqlite|postgres) ;;
  *) echo "SPLINE_PREFECT_DATABASE must be sqlite or postgres (got '$database')" >&2; exit 2 ;;
esac

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up [--postgres] | down | status" >&2; exit 2 ;;
esac

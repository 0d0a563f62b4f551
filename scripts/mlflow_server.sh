#!/usr/bin/env bash
# A local MLflow tracking server and model registry: 127.0.0.1 only, SQLite backend and
# artifacts in a folder this script owns. Runs and the registry are browsable in its UI.
#
#   scripts/mlflow_server.sh up       # start it (first start migrates the database), print the URI
#   scripts/mlflow_server.sh down     # stop it (the whole process group: no workers left behind)
#   scripts/mlflow_server.sh status   # running or not, and the URI
#
# Settings (environment): SPLINE_MLFLOW_DIR (.local_stack/mlflow), SPLINE_MLFLOW_PORT (5000).
# Point runs at it with: export MLFLOW_TRACKING_URI=$(scripts/mlflow_server.sh up)
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | cut -c3-; exit 0 ;; esac  # the header
repo="$(cd "$(dirname "$0")/.." && pwd)"

dir="${SPLINE_MLFLOW_DIR:-$repo/.local_stack/mlflow}"
port="${SPLINE_MLFLOW_PORT:-5000}"
uri="http://127.0.0.1:$port"
pidfile="$dir/server.pid"
python_bin="$repo/.venv/bin/python"

log() { echo "mlflow_server: $*" >&2; }
# shellcheck source=scripts/process_group.sh
source "$repo/scripts/process_group.sh"

alive() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

healthy() {
  "$python_bin" -c "import urllib.request; urllib.request.urlopen('$uri/health', timeout=2)" \
    >/dev/null 2>&1
}

up() {
  mkdir -p "$dir/artifacts"
  if alive && healthy; then echo "$uri"; return 0; fi
  if healthy; then
    log "port $port already answers as an MLflow server not started here; set SPLINE_MLFLOW_PORT"
    return 1
  fi
  log "starting MLflow on $uri (data in $dir; the first start migrates its database)"
  # Own session: `down` stops the server and every worker it forked, by process group.
  MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false MLFLOW_DISABLE_TELEMETRY=true \
    setsid "$repo/.venv/bin/mlflow" server --host 127.0.0.1 --port "$port" --workers 1 \
    --backend-store-uri "sqlite:///$dir/mlflow.db" \
    --artifacts-destination "$dir/artifacts" >"$dir/server.log" 2>&1 < /dev/null &
  echo $! >"$pidfile"
  local deadline=$((SECONDS + ${SPLINE_MLFLOW_START_TIMEOUT:-180}))
  until healthy; do
    if ! alive; then log "the server exited:"; tail -20 "$dir/server.log" >&2; return 1; fi
    if [ $SECONDS -ge $deadline ]; then
      log "no answer on $uri/health in time:"; tail -20 "$dir/server.log" >&2; down; return 1
    fi
    sleep 1
  done
  echo "$uri"
}

down() {
  if alive; then
    local pid; pid="$(cat "$pidfile")"
    log "stopping MLflow (process group $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill_group "$pid" || log "MLflow (process group $pid) still runs after SIGKILL"
  fi
  rm -f "$pidfile"
}

status() {
  if alive && healthy; then echo "mlflow: running (pid $(cat "$pidfile")) at $uri"
  else echo "mlflow: stopped"; fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up | down | status" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The smoke gate: run the synthetic smoke flow end to end (<= 3 epochs, seed 42), then
# check every artifact, run_id consistency and a finite RMSE. Exit 0 only if all pass.
#   scripts/smoke_test.sh                 # artifacts under ./artifacts
#   ARTIFACTS_DIR=/tmp/a scripts/smoke_test.sh
set -euo pipefail
case "${1:-}" in
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | cut -c3-; exit 0 ;;  # the header
  *) echo "smoke: unknown argument '$1': the smoke gate takes none (see --help)" >&2; exit 20 ;;
esac
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PREFECT_SERVER_ANALYTICS_ENABLED=false
artifacts_dir="${ARTIFACTS_DIR:-artifacts}"
run_id="${RUN_ID:-smoke-$(date -u +%Y%m%dT%H%M%S)-$$}"

echo "smoke: running flow e2e as run_id $run_id (artifacts in $artifacts_dir)" >&2
.venv/bin/python flows/e2e.py --run-id "$run_id" --artifacts-dir "$artifacts_dir" \
  --epochs 3 --seed 42 --synthetic-points 1200

echo "smoke: health gate" >&2
.venv/bin/python flows/health.py --run-id "$run_id" --artifacts-dir "$artifacts_dir" >/dev/null

.venv/bin/python - "$artifacts_dir" "$run_id" <<'PY'
import json, math, sys
root, run_id = sys.argv[1], sys.argv[2]
metrics = json.load(open(f"{root}/metrics/{run_id}.json"))
assert metrics["run_id"] == run_id, f"metrics run_id {metrics['run_id']!r} != {run_id!r}"
rmse = metrics["metrics"]["rmse"]
assert isinstance(rmse, float) and math.isfinite(rmse), f"rmse is not finite: {rmse!r}"
tracking = json.load(open(f"{root}/metadata/{run_id}.json")).get("tracking") or {}
tracked = (f"mlflow={tracking['model_name']}@v{tracking['model_version']}"
           if tracking.get("status") == "tracked" else f"mlflow={tracking.get('status', 'off')}")
print(f"smoke: PASS run_id={run_id} rmse={rmse:.4f} mase={metrics['metrics']['mase']:.4f} "
      f"{tracked} report={root}/reports/{run_id}.md")
PY

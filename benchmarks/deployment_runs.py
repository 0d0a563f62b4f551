"""Deployment runs through a worker, timed: what a scheduled run costs (for speed.py).

``time_deployments(tree)`` starts ``scripts/local_stack.sh`` from ``tree`` (its own
Prefect home, port, pool and artifacts; no MLflow server, so runs track into the
artifacts dir), runs the ``e2e/smoke`` and ``e2e/retrain`` deployments of prefect.yaml
(retrain on co2_weekly, H=52, ``--promote``) one after the other, ``reps`` times each, and
reads every flow run's seconds from the server (start to end, as the UI shows them).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from flows.early_start import free_port

ROOT = Path(__file__).resolve().parents[1]
PREFECT = ROOT / ".venv" / "bin" / "prefect"
PYTHON = ROOT / ".venv" / "bin" / "python"
DEPLOYMENTS = ("e2e/smoke", "e2e/retrain")

# Each flow run's name and seconds, as JSON lines, from the stack's server.
_READ_RUNS = """
import asyncio, json
from prefect.client.orchestration import get_client

async def main():
    async with get_client() as client:
        runs = [r for r in await client.read_flow_runs() if r.start_time and r.end_time]
        for run in sorted(runs, key=lambda r: r.start_time):
            print(json.dumps({"name": run.name, "state": run.state_type.value,
                              "seconds": (run.end_time - run.start_time).total_seconds()}))

asyncio.run(main())
"""


def time_deployments(tree: Path, reps: int = 2) -> dict[str, list[float]]:
    """{deployment: [seconds of each run]} for runs of ``tree``'s deployments."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {**os.environ, "SPLINE_PREFECT_PORT": str(port),
               "PREFECT_HOME": f"{tmp}/prefect", "SPLINE_ARTIFACTS_DIR": f"{tmp}/artifacts",
               "SPLINE_WORK_POOL": f"speed-{port}", "SPLINE_MLFLOW": "off",
               "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "SPLINE_RETRAIN_INPUT": str(ROOT.parent / "shared" / "data" / "co2_weekly.csv"),
               "PREFECT_WORKER_QUERY_SECONDS": "2"}  # wait on runs, not on the poll
        stack = ["scripts/local_stack.sh"]
        subprocess.run([*stack, "up"], cwd=tree, env=env, check=True, capture_output=True)
        try:
            for deployment in DEPLOYMENTS:
                for _ in range(reps):
                    done = subprocess.run([str(PREFECT), "deployment", "run", deployment,
                                           "--watch"], cwd=tree, env=env, capture_output=True,
                                          text=True)
                    if done.returncode != 0:
                        raise SystemExit(f"{deployment} from {tree} failed: "
                                         f"{done.stdout[-1500:]}{done.stderr[-1500:]}")
            listed = subprocess.run([str(PYTHON), "-c", _READ_RUNS], env=env, check=True,
                                    capture_output=True, text=True).stdout
        finally:
            subprocess.run([*stack, "down"], cwd=tree, env=env, capture_output=True)
    return seconds_by_deployment(listed)


def seconds_by_deployment(listed: str) -> dict[str, list[float]]:
    """{deployment: seconds of its completed runs} from ``_READ_RUNS``' lines; a run is
    its deployment's by its name (smoke-<scheduled>, retrain-<scheduled>)."""
    runs: dict[str, list[float]] = {}
    for line in listed.splitlines():
        run = json.loads(line)
        name = next((d for d in DEPLOYMENTS if run["name"].startswith(d.split("/")[1] + "-")),
                    None)
        if run["state"] == "COMPLETED" and name:
            runs.setdefault(name, []).append(run["seconds"])
    return runs

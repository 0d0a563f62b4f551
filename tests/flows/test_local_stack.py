"""The real thing: scripts/local_stack.sh starts a Prefect server, pool, deployments and a
worker; deployments run through the worker; the UI shows a failed run.

Marked ``server`` (about 4.5 minutes): CI runs it; skip it locally with -m "not server".
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.helpers import read_until

pytestmark = pytest.mark.server
REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    artifacts = tmp_path_factory.mktemp("stack-artifacts")
    port = _free_port()
    env = {**os.environ, "SPLINE_PREFECT_PORT": str(port), "PREFECT_HOME": str(home),
           "SPLINE_ARTIFACTS_DIR": str(artifacts), "SPLINE_WORK_POOL": "test-pool",
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           # MLflow's server has its own tests (tests/flows/test_mlflow_registry.py)
           "SPLINE_MLFLOW": "off",
           # Poll faster than production (60 s / 10 s) so tests wait on runs, not on loops.
           "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
           "PREFECT_WORKER_QUERY_SECONDS": "2"}
    up = subprocess.run(["scripts/local_stack.sh", "up"], cwd=REPO, env=env,
                        capture_output=True, text=True, timeout=600)
    try:
        assert up.returncode == 0, up.stderr[-3000:]
        assert f"PREFECT_API_URL=http://127.0.0.1:{port}/api" in up.stdout
        yield env, artifacts
    finally:
        down = subprocess.run(["scripts/local_stack.sh", "down"], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)
        assert down.returncode == 0, down.stderr
        status = subprocess.run(["scripts/local_stack.sh", "status"], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=60)
        assert "server: stopped" in status.stdout and "worker: stopped" in status.stdout
        with socket.socket() as sock:  # nothing listens on the port any more
            assert sock.connect_ex(("127.0.0.1", port)) != 0


def _prefect(env, *args, timeout=600):
    return subprocess.run([str(BIN / "prefect"), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _client(env):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    class _Session:
        def __enter__(self):
            self._settings = temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"]})
            self._settings.__enter__()
            self._client = get_client(sync_client=True).__enter__()
            return self._client

        def __exit__(self, *exc):
            self._client.__exit__(*exc)
            self._settings.__exit__(*exc)

    return _Session()


def _runs_of(env, deployment_name):
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with _client(env) as client:
        deployment = client.read_deployment_by_name(deployment_name)
        return deployment, client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])))


def test_smoke_deployment_runs_through_the_worker_and_passes_the_gate(stack):
    env, artifacts = stack
    # an operator caps a stage, so the run (--stage-tags auto) tags every stage
    cap = _prefect(env, "concurrency-limit", "create", "stage:train", "4")
    assert cap.returncode == 0, cap.stderr[-2000:]
    # What is under test is the worker, the gate, the tags and the side process, not the
    # model: a small network as the forecast, no backtest windows (each a tagged task that
    # waits on the SQLite lease; the model choice has its own flow tests)
    small = {"candidates": ["lstm"], "hidden_units": [8], "lookback": 24,
             "synthetic_points": 600, "power": "none", "seasonal_difference": 0,
             "tracking": "off"}
    run = _prefect(env, "deployment", "run", "e2e/smoke", "--watch",
                   *[a for k, v in small.items() for a in ("-p", f"{k}={json.dumps(v)}")])
    failures = "".join(p.read_text()[-3000:] for p in (artifacts / "logs").glob("*.failed.md"))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:] + failures
    metrics = sorted((artifacts / "metrics").glob("smoke-*.json"))
    assert len(metrics) == 1
    run_id = json.loads(metrics[0].read_text())["run_id"]
    gate = subprocess.run([sys.executable, "flows/health.py", "--run-id", run_id,
                           "--artifacts-dir", str(artifacts)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert gate.returncode == 0, gate.stderr
    _, runs = _runs_of(env, "e2e/smoke")
    assert [r.name for r in runs if r.state.is_completed()] == [run_id]
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    def stage_tags() -> dict:
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[r.id for r in runs if r.state.is_completed()])))
        return {t.name.rsplit("-", 1)[0]: set(t.tags) for t in task_runs}

    with _client(env) as client:
        tags = read_until(stage_tags, lambda seen: {"train", "ingest"} <= set(seen))
    assert tags["train"] == {"stage:train"} and tags["ingest"] == {"stage:ingest"}
    # the process the worker started for this run fitted its baselines beside it
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    with _client(env) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(
            any_=[r.id for r in runs if r.state.is_completed()])))
    assert any("classical baselines" in log.message and "(in a side process)" in log.message
               for log in logs), [log.message for log in logs][-20:]


def test_a_failing_deployment_run_is_failed_with_its_code_in_the_state_message(stack):
    env, artifacts = stack
    run = _prefect(env, "deployment", "run", "e2e/smoke", "--watch", "-p",
                   'input="/missing.csv"')
    assert run.returncode != 0
    _, runs = _runs_of(env, "e2e/smoke")
    failed = [r for r in runs if r.state.is_failed()]
    assert len(failed) == 1
    message = failed[0].state.message
    assert "FILE_NOT_FOUND (exit 21)" in message and "/missing.csv" in message
    assert not list((artifacts / "processed").glob(f"{failed[0].name}*"))
    with _client(env) as client:
        keys = {a.key for a in client.read_artifacts()}
    assert f"failure-{failed[0].name.lower()}" in keys


def test_a_scheduled_run_really_runs_with_a_run_id_from_its_scheduled_time(stack):
    from prefect.client.schemas.schedules import IntervalSchedule

    env, artifacts = stack
    deployment, before = _runs_of(env, "e2e/smoke")
    with _client(env) as client:
        # What is under test is the scheduler and the run_id, not the model: a small run.
        # anchored a few seconds ahead: the first run is due then, not at the next
        # 15-second boundary of the default anchor
        anchor = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=3)
        client.create_deployment_schedules(
            deployment.id, [(IntervalSchedule(interval=timedelta(seconds=15),
                                              anchor_date=anchor), True)],
            parameters={"hidden_units": [8], "lookback": 24, "power": "none",
                        "seasonal_difference": 0, "baselines": "simple",
                        "candidates": ["lstm"], "tracking": "off",
                        "synthetic_points": 600})
    deadline = time.time() + 240
    scheduled = []
    while time.time() < deadline and not scheduled:
        time.sleep(1)
        _, runs = _runs_of(env, "e2e/smoke")
        scheduled = [r for r in runs if r.auto_scheduled and r.state.is_completed()]
    with _client(env) as client:  # stop scheduling before asserting
        for schedule in client.read_deployment_schedules(deployment.id):
            client.delete_deployment_schedule(deployment.id, schedule.id)
    assert scheduled, "no scheduled run completed within 4 minutes"
    run = scheduled[0]
    assert run.name == f"smoke-{run.expected_start_time:%Y%m%dT%H%M%S}Z"
    assert (artifacts / "metrics" / f"{run.name}.json").is_file()


def test_schedule_status_reports_a_stopped_schedule(stack):
    env, _ = stack
    tool = [sys.executable, "deployments/schedule_status.py", "--deployment", "e2e/retrain"]
    healthy = subprocess.run(tool, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert healthy.returncode == 0, healthy.stdout
    assert "upcoming run(s)" in healthy.stdout
    listed = _prefect(env, "deployment", "schedule", "ls", "e2e/retrain")
    assert listed.returncode == 0 and "0 3 * * *" in listed.stdout
    deployment, _ = _runs_of(env, "e2e/retrain")
    schedule_id = str(deployment.schedules[0].id)
    paused = _prefect(env, "deployment", "schedule", "pause", "e2e/retrain", schedule_id)
    assert paused.returncode == 0, paused.stdout + paused.stderr
    try:
        stopped = subprocess.run(tool, cwd=REPO, env=env, capture_output=True, text=True,
                                 timeout=120)
        assert stopped.returncode == 1, stopped.stdout
        assert "no active schedule: prefect deployment schedule ls e2e/retrain" in stopped.stdout
    finally:
        _prefect(env, "deployment", "schedule", "resume", "e2e/retrain", schedule_id)


def test_the_ui_shows_the_failed_run(stack, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        pytest.skip("Debian chromium is not installed (.ci/run installs it when it can)")
    env, _ = stack
    _, runs = _runs_of(env, "e2e/smoke")
    failed = [r for r in runs if r.state.is_failed()]
    if not failed:  # running alone: make a failed run to look at
        _prefect(env, "deployment", "run", "e2e/smoke", "--watch", "-p", 'input="/missing.csv"')
        _, runs = _runs_of(env, "e2e/smoke")
        failed = [r for r in runs if r.state.is_failed()]
    url = env["PREFECT_API_URL"].removesuffix("/api") + f"/runs/flow-run/{failed[0].id}"
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--window-size=1400,1000", "--virtual-time-budget=20000"]
    shot = tmp_path / "failed-run.png"
    subprocess.run([*flags, f"--user-data-dir={tmp_path / 'p1'}", f"--screenshot={shot}", url],
                   capture_output=True, timeout=180)
    dom = subprocess.run([*flags, f"--user-data-dir={tmp_path / 'p2'}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=180).stdout
    assert shot.is_file() and shot.stat().st_size > 10_000
    assert failed[0].name in dom and "Failed" in dom
    if os.environ.get("SPLINE_SCREENSHOT_DIR"):
        target = Path(os.environ["SPLINE_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / shot.name)


def test_the_smoke_gate_script_passes(stack, tmp_path):
    # against the stack's server, as an operator with the stack up runs it: the flow then
    # starts no temporary server of its own (that path has its own tests, e.g.
    # tests/reliability/test_hostile_round_two.py)
    env, _ = stack
    proc = subprocess.run(["scripts/smoke_test.sh"], cwd=REPO, capture_output=True, text=True,
                          env={**env, "ARTIFACTS_DIR": str(tmp_path / "artifacts")},
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "smoke: PASS run_id=smoke-" in proc.stdout

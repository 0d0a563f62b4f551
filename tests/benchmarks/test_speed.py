"""The speed benchmark reads stage times from a run's console lines."""

import json

from benchmarks.speed import stage_seconds

LINES = [
    (0.5, "some import warning\n"),
    (14.0, "10:17:28.183 | INFO    | Flow run 'smoke' - Beginning flow run 'smoke' for flow "
           "'e2e'\n"),
    (14.1, "10:17:28.211 | INFO    | Task run 'ingest-f5a' - ingested 359 rows\n"),
    (14.2, "10:17:28.213 | INFO    | Task run 'ingest-f5a' - Finished in state Completed()\n"),
    (20.2, "10:17:36.617 | INFO    | Task run 'select-transform-76f' - Finished in state "
           "Completed()\n"),
    (22.2, "10:17:37.0 | INFO    | Task run 'backtest-window-2' - Finished in state "
           "Completed()\n"),
    (23.2, "10:17:38.0 | INFO    | Task run 'backtest-window-1' - Finished in state "
           "Completed()\n"),
    (23.7, "10:17:38.5 | INFO    | Task run 'evaluate-0b2' - Finished in state "
           "Completed()\n"),
    (24.0, "10:17:39.390 | INFO    | Flow run 'smoke' - Finished in state Completed()\n"),
]


def test_each_stage_runs_from_the_previous_finish_to_its_own():
    stages = stage_seconds(LINES, exited=25.0)
    assert stages["before first task"] == 14.0
    assert abs(stages["ingest"] - 0.2) < 1e-9
    assert abs(stages["select-transform"] - 6.0) < 1e-9
    assert abs(stages["backtest"] - 3.0) < 1e-9  # the windows, side by side, add up
    assert abs(stages["evaluate"] - 0.5) < 1e-9
    assert abs(stages["commit and exit"] - 1.3) < 1e-9
    assert "Flow run" not in " ".join(stages)


def test_a_run_that_never_started_its_flow_has_no_stages():
    assert stage_seconds([(3.0, "Traceback (most recent call last):\n")], exited=3.1) == {}


def test_deployment_runs_are_timed_per_deployment_completed_runs_only():
    from benchmarks.deployment_runs import seconds_by_deployment
    from benchmarks.speed import render_deployments

    listed = "\n".join(json.dumps(run) for run in (
        {"name": "smoke-20261205T214521Z", "state": "COMPLETED", "seconds": 17.3},
        {"name": "smoke-20261205T214547Z", "state": "FAILED", "seconds": 3.0},
        {"name": "retrain-20261205T214613Z", "state": "COMPLETED", "seconds": 34.2},
        {"name": "smoke-20261205T214600Z", "state": "COMPLETED", "seconds": 16.4}))
    runs = seconds_by_deployment(listed)
    assert runs == {"e2e/smoke": [17.3, 16.4], "e2e/retrain": [34.2]}
    table = render_deployments({"e2e/smoke": [12.2, 12.5]}, runs, "4dfc55b0")
    assert "| `e2e/smoke` | 12.2 / 12.5 | 17.3 / 16.4 | 0.73 |" in table


def test_a_reference_tree_finds_the_bootstrap_stamp_its_script_looks_for():
    """scripts/bootstrap.sh names its stamp after pyproject.toml and constraints.txt; a
    reference tree's local_stack.sh must find it, or it reinstalls the shared virtualenv."""
    import subprocess

    from benchmarks.speed import ROOT, _bootstrap_stamp

    digest = subprocess.run("cat pyproject.toml constraints.txt | sha256sum | cut -c1-16",
                            shell=True, cwd=ROOT, capture_output=True, text=True, check=True)
    assert _bootstrap_stamp(ROOT).name == f".installed-{digest.stdout.strip()}"
    assert f'stamp=".venv/.installed-$(cat pyproject.toml constraints.txt | sha256sum' in \
        (ROOT / "scripts" / "bootstrap.sh").read_text()

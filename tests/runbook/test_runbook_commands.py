"""Every command the runbook tells an operator to type is exercised somewhere.

A new command in a runbook code block fails this test until it is mapped to the test or
script that runs it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = REPO / "runbook" / "README.md"

# command prefix -> where it is exercised ("path::test" or a script path)
EXERCISED = {
    "scripts/bootstrap.sh": "scripts/test.sh",
    "spline-lstm models show": "tests/flows/test_mlflow_registry.py::test_bad_registry_input_gets_a_coded_error_naming_it",
    "spline-lstm models promote": "tests/flows/test_mlflow_registry.py::test_the_first_champion_then_a_better_candidate_takes_over",
    "spline-lstm models rollback": "tests/flows/test_mlflow_registry.py::test_rollback_restores_the_previous_champion_and_history_lists_every_move",
    "spline-lstm models history": "tests/flows/test_mlflow_registry.py::test_rollback_restores_the_previous_champion_and_history_lists_every_move",
    "spline-lstm track --run-id": "tests/flows/test_mlflow_registry.py::test_an_outage_leaves_the_run_safe_and_a_backfill_tracks_it_once",
    "source .venv/bin/activate": "scripts/test.sh",
    "python flows/e2e.py --help": "tests/flows/test_cli_contract.py::test_help_documents_every_flag_and_the_exit_codes",
    "python flows/e2e.py --run-id demo-001": "tests/flows/test_e2e.py::test_smoke_run_writes_every_artifact_and_passes_the_gate",
    "python flows/e2e.py --run-id co2-001 --input": "benchmarks/accuracy.py",
    "python flows/e2e.py --run-id two-step --preprocess-only": "tests/flows/test_e2e.py::test_preprocess_only_then_consume_path",
    "python flows/e2e.py --run-id two-step --processed-npz": "tests/flows/test_e2e.py::test_preprocess_only_then_consume_path",
    "scripts/smoke_test.sh": "tests/flows/test_local_stack.py::test_the_smoke_gate_script_passes",
    "python flows/health.py": "tests/flows/test_e2e.py::test_smoke_run_writes_every_artifact_and_passes_the_gate",
    "scripts/local_stack.sh up": "tests/flows/test_local_stack.py::stack",
    "scripts/local_stack.sh status": "tests/flows/test_local_stack.py::stack",
    "scripts/local_stack.sh down": "tests/flows/test_local_stack.py::stack",
    "export PREFECT_API_URL=": "tests/flows/test_local_stack.py::stack",
    "prefect deployment run e2e/smoke --watch -p": "tests/flows/test_local_stack.py::test_a_failing_deployment_run_is_failed_with_its_code_in_the_state_message",
    "prefect deployment run e2e/smoke --watch": "tests/flows/test_local_stack.py::test_smoke_deployment_runs_through_the_worker_and_passes_the_gate",
    "python deployments/schedule_status.py": "tests/flows/test_local_stack.py::test_schedule_status_reports_a_stopped_schedule",
    "python flows/many.py --run-id fleet-01 --input long.csv": "tests/flows/test_many_series.py::test_each_series_is_a_child_run_and_a_bad_one_fails_alone",
    "python flows/many.py --run-id fleet-01 --input-dir sensors/ --runner dask": "tests/flows/test_many_series.py::test_series_run_on_a_real_two_worker_dask_cluster",
    "prefect deployment schedule ls e2e/retrain": "tests/flows/test_local_stack.py::test_schedule_status_reports_a_stopped_schedule",
}


def runbook_commands() -> list[str]:
    text = RUNBOOK.read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def _where(command: str) -> str | None:
    matches = [prefix for prefix in EXERCISED if command.startswith(prefix)]
    return EXERCISED[max(matches, key=len)] if matches else None


@pytest.mark.parametrize("command", runbook_commands())
def test_each_runbook_command_is_exercised(command):
    where = _where(command)
    assert where, f"runbook command not exercised by any test or script: {command!r}"
    path, _, name = where.partition("::")
    assert (REPO / path).is_file(), where
    if name:
        assert re.search(rf"^def {name}\(", (REPO / path).read_text(), re.M), where

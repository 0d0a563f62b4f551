import json

import pytest

from contracts import errors as e

EXPECTED = [
    (e.InvalidArgumentError, 20, "INVALID_ARGUMENT"),
    (e.InputFileNotFoundError, 21, "FILE_NOT_FOUND"),
    (e.ArtifactContractError, 22, "ARTIFACT_CONTRACT_ERROR"),
    (e.InputShapeError, 23, "INPUT_SHAPE_ERROR"),
    (e.RunnerExecError, 24, "RUNNER_EXEC_ERROR"),
    (e.InputSchemaError, 25, "INPUT_SCHEMA_ERROR"),
    (e.InsufficientDataError, 26, "INSUFFICIENT_DATA_ERROR"),
    (e.RunIdMismatchError, 27, "RUN_ID_MISMATCH"),
    (e.HealthCheckFailedError, 30, "HEALTH_CHECK_FAILED"),
    (e.CheckpointSaveError, 31, "CHECKPOINT_SAVE_ERROR"),
]


@pytest.mark.parametrize("cls,exit_code,code", EXPECTED)
def test_each_error_carries_its_spec_code_and_payload(cls, exit_code, code):
    error = cls("what went wrong; how to fix it")
    payload = json.loads(e.error_line(error))
    assert payload == {"ok": False, "exit_code": exit_code,
                       "error": {"code": code, "message": "what went wrong; how to fix it",
                                 "type": cls.__name__}}
    # The state message in Prefect embeds str(exc): it must start with the code.
    assert str(error).startswith(f"{code} (exit {exit_code}): ")


def test_unexpected_exceptions_become_runner_exec_errors():
    payload = e.error_payload(KeyError("boom"))
    assert payload["exit_code"] == 24
    assert payload["error"]["code"] == "RUNNER_EXEC_ERROR"
    assert payload["error"]["type"] == "KeyError"
    assert "boom" in payload["error"]["message"]


def test_input_and_contract_errors_are_quiet_runtime_errors_are_not():
    quiet = {cls for cls, _, _ in EXPECTED if cls.quiet}
    assert {c.exit_code for c in quiet} == {20, 21, 22, 23, 25, 26, 27}


def test_the_coded_errors_are_the_spec_table_in_order_and_map_back():
    assert [cls for cls, _, _ in EXPECTED] == list(e.CODED_ERRORS)
    assert all(e.error_class_for(code) is cls for cls, code, _ in EXPECTED)
    assert e.error_class_for(99) is e.RunnerExecError
    subclasses = {c for c in vars(e).values() if isinstance(c, type)
                  and issubclass(c, e.PipelineError) and c is not e.PipelineError}
    assert subclasses == set(e.CODED_ERRORS)  # a new code must join the table
    assert e.RunnerExecError("x").quiet is False and e.RunnerExecError("x", quiet=True).quiet

"""Typed pipeline errors: one root, one subclass per SPEC §4 exit code.

Every message says what was expected, what arrived, and how to fix it. The string
form starts with the error code so that Prefect state messages (which embed
``str(exc)``) show the code in the UI without opening the logs.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import ClassVar


class ErrorCode(str, Enum):
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    FILE_NOT_FOUND = "FILE_NOT_FOUND"
    ARTIFACT_CONTRACT_ERROR = "ARTIFACT_CONTRACT_ERROR"
    INPUT_SHAPE_ERROR = "INPUT_SHAPE_ERROR"
    RUNNER_EXEC_ERROR = "RUNNER_EXEC_ERROR"
    INPUT_SCHEMA_ERROR = "INPUT_SCHEMA_ERROR"
    INSUFFICIENT_DATA_ERROR = "INSUFFICIENT_DATA_ERROR"
    RUN_ID_MISMATCH = "RUN_ID_MISMATCH"
    HEALTH_CHECK_FAILED = "HEALTH_CHECK_FAILED"
    CHECKPOINT_SAVE_ERROR = "CHECKPOINT_SAVE_ERROR"


class PipelineError(Exception):
    """Root of every error the pipeline raises on purpose."""

    exit_code: ClassVar[int] = 24
    code: ClassVar[ErrorCode] = ErrorCode.RUNNER_EXEC_ERROR
    # Input and contract errors are the user's to fix: the console shows the coded
    # message only, the stack trace goes to the debug log (SPEC §4).
    quiet: ClassVar[bool] = True

    def __init__(self, message: str, *, quiet: bool | None = None,
                 fix: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if quiet is not None:  # e.g. a runtime failure the user caused and can fix
            self.quiet = quiet
        # When the fix is a flag value (RunConfig field -> value), the failure card's re-run
        # command carries it, so pasting that command works.
        self.fix = dict(fix or {})

    def __str__(self) -> str:
        return f"{self.code.value} (exit {self.exit_code}): {self.message}"


class InvalidArgumentError(PipelineError):
    exit_code = 20
    code = ErrorCode.INVALID_ARGUMENT


class InputFileNotFoundError(PipelineError):
    exit_code = 21
    code = ErrorCode.FILE_NOT_FOUND


class ArtifactContractError(PipelineError):
    exit_code = 22
    code = ErrorCode.ARTIFACT_CONTRACT_ERROR


class InputShapeError(PipelineError):
    exit_code = 23
    code = ErrorCode.INPUT_SHAPE_ERROR


class RunnerExecError(PipelineError):
    exit_code = 24
    code = ErrorCode.RUNNER_EXEC_ERROR
    quiet = False


class InputSchemaError(PipelineError):
    exit_code = 25
    code = ErrorCode.INPUT_SCHEMA_ERROR


class InsufficientDataError(PipelineError):
    exit_code = 26
    code = ErrorCode.INSUFFICIENT_DATA_ERROR


class RunIdMismatchError(PipelineError):
    exit_code = 27
    code = ErrorCode.RUN_ID_MISMATCH


class HealthCheckFailedError(PipelineError):
    exit_code = 30
    code = ErrorCode.HEALTH_CHECK_FAILED
    quiet = False


class CheckpointSaveError(PipelineError):
    exit_code = 31
    code = ErrorCode.CHECKPOINT_SAVE_ERROR
    quiet = False


def as_pipeline_error(exc: BaseException) -> PipelineError:
    """Map any exception to a coded one; unexpected ones become RUNNER_EXEC_ERROR."""
    if isinstance(exc, PipelineError):
        return exc
    wrapped = RunnerExecError(f"{type(exc).__name__}: {exc}")
    wrapped.__cause__ = exc
    return wrapped


def error_payload(exc: BaseException) -> dict:
    """Return the SPEC §4 JSON payload for a failure."""
    coded = as_pipeline_error(exc)
    original = exc if not isinstance(exc, PipelineError) else coded
    return {
        "ok": False,
        "exit_code": coded.exit_code,
        "error": {
            "code": coded.code.value,
            "message": coded.message,
            "type": type(original).__name__,
        },
    }


def error_line(exc: BaseException) -> str:
    """Return the one JSON line printed on stderr for a failure."""
    return json.dumps(error_payload(exc), ensure_ascii=False)


# The SPEC §4 table, in exit-code order: the one list --help, the runbook check and
# error_class_for read.
CODED_ERRORS: tuple[type[PipelineError], ...] = (
    InvalidArgumentError, InputFileNotFoundError, ArtifactContractError, InputShapeError,
    RunnerExecError, InputSchemaError, InsufficientDataError, RunIdMismatchError,
    HealthCheckFailedError, CheckpointSaveError)


def error_class_for(exit_code: int) -> type[PipelineError]:
    """The error class of a SPEC §4 exit code (RUNNER_EXEC_ERROR for unknown codes)."""
    return next((cls for cls in CODED_ERRORS if cls.exit_code == exit_code), RunnerExecError)


def exit_code_table(per_line: int = 4) -> str:
    """'0 success | 20 INVALID_ARGUMENT | ...' over a few lines, for --help."""
    cells = ["0 success"] + [f"{cls.exit_code} {cls.code.value}" for cls in CODED_ERRORS]
    return "\n".join("  " + " | ".join(cells[i:i + per_line])
                     for i in range(0, len(cells), per_line))

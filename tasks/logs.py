"""The logger a stage writes to, and the tags its task runs carry."""

from __future__ import annotations

import logging

from prefect import get_run_logger
from prefect.exceptions import MissingContextError


def stage_logger() -> logging.Logger | logging.LoggerAdapter:
    """Lets a task's ``.fn()`` run outside a flow (tests, benchmarks) and still log."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("spline_lstm")


def stage_tags(stage: str, enabled: bool = True) -> list[str]:
    """Tags of a stage's task runs: ``stage:<stage>``, to filter runs in the UI or cap a
    stage with a Prefect concurrency limit (e.g. ``stage:train``).

    Each tagged task run asks the Prefect server for a concurrency lease; on a SQLite
    server that request often collides with other writes and Prefect retries it after
    ~2 s, so a run can switch them off (the ``stage_tags`` flow parameter, ``--stage-tags
    off``; the many-series flow does for its children unless asked for tags). Decided per
    call, not at import, so a deployment's parameters choose.
    """
    return [f"stage:{stage}"] if enabled else []


def as_stage(task, stage: str, enabled: bool):
    """``task`` with its stage tag when ``enabled`` (the same task object otherwise)."""
    return task.with_options(tags=stage_tags(stage)) if enabled else task

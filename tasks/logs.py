"""The logger a stage writes to: the Prefect run logger inside a run, else a plain one."""

from __future__ import annotations

import logging
import os

from prefect import get_run_logger
from prefect.exceptions import MissingContextError


def stage_logger() -> logging.Logger | logging.LoggerAdapter:
    """Lets a task's ``.fn()`` run outside a flow (tests, benchmarks) and still log."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("spline_lstm")


STAGE_TAGS_ENV = "SPLINE_STAGE_TAGS"


def stage_tags(stage: str) -> list[str]:
    """Tags of a stage's task runs: ``stage:<stage>``, to filter runs in the UI or cap a
    stage with a Prefect concurrency limit (e.g. ``stage:train``).

    Each tagged task run asks the Prefect server for a concurrency lease; on a SQLite
    server that request often collides with other writes and Prefect retries it after
    ~2 s. ``SPLINE_STAGE_TAGS=off`` (read when the tasks are imported) drops the tags; the
    many-series flow sets it for its children unless asked for tags.
    """
    if os.environ.get(STAGE_TAGS_ENV, "on").strip().lower() in ("off", "0", "false", "no"):
        return []
    return [f"stage:{stage}"]

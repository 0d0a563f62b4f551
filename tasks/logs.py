"""The logger a stage writes to: the Prefect run logger inside a run, else a plain one."""

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

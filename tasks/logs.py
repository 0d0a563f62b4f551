"""The logger a stage writes to, the tags its task runs carry, and artifact keys."""

from __future__ import annotations

import logging
import re
from typing import Callable

from prefect import get_run_logger
from prefect.exceptions import MissingContextError


def artifact_key(prefix: str, name: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return f"{prefix}-{slug}"


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
    ~2 s, so the tags are chosen per run (the ``stage_tags`` flow parameter:
    ``auto`` tags only where the server caps a stage, see ``wants_stage_tags``). Decided
    per call, not at import, so a deployment's parameters choose.
    """
    return [f"stage:{stage}"] if enabled else []


def wants_stage_tags(choice: str, stages_capped: Callable[[], bool]) -> bool:
    """on / off as asked; ``auto``: tags only when the server caps some stage.

    A tag is worth its lease request only where a concurrency limit reads it (the UI
    filters stages by task run name without tags). If the server cannot say, tag: a cap
    that exists must hold.
    """
    if choice != "auto":
        return choice == "on"
    try:
        return stages_capped()
    except Exception:  # noqa: BLE001 - any failure to ask means: assume a cap exists
        return True


def server_caps_stages(page: int = 200) -> bool:
    """Does the Prefect server hold a concurrency limit on any ``stage:`` tag?"""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        offset = 0
        while True:
            limits = client.read_concurrency_limits(limit=page, offset=offset)
            if any(limit.tag.startswith("stage:") for limit in limits):
                return True
            if len(limits) < page:
                return False
            offset += page


def as_stage(task, stage: str, enabled: bool):
    """``task`` with its stage tag when ``enabled`` (the same task object otherwise)."""
    return task.with_options(tags=stage_tags(stage)) if enabled else task

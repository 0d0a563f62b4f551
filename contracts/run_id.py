"""The run_id rule of SPEC §2: one id shared by every artifact of a run."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from contracts.errors import InvalidArgumentError

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def validate_run_id(run_id: object) -> str:
    """Return ``run_id`` unchanged if it is safe to use in artifact paths, else raise 20."""
    if not isinstance(run_id, str) or not run_id:
        raise InvalidArgumentError(
            f"run_id is required (got {run_id!r}); pass --run-id, e.g. --run-id demo-001"
        )
    if not RUN_ID_PATTERN.fullmatch(run_id) or ".." in run_id:
        raise InvalidArgumentError(
            f"invalid run_id {run_id!r}: expected 1-128 characters from A-Z a-z 0-9 . _ -, "
            "starting with a letter or digit, without '..', spaces or path separators; "
            "e.g. --run-id demo-001"
        )
    return run_id


def scheduled_run_id(prefix: str, scheduled_time: datetime) -> str:
    """Return a unique, valid run_id for a scheduled run, e.g. ``retrain-20260101T030000Z``.

    A naive ``scheduled_time`` is taken as UTC.
    """
    return resolve_run_id(f"{prefix}-{{scheduled}}", scheduled_time)


RUN_ID_TOKENS = ("{scheduled}", "{flow_run}")


def resolve_run_id(template: str, scheduled_time: datetime | None = None,
                   flow_run_id: str | None = None) -> str:
    """Fill the tokens a deployment's run_id may carry, then validate.

    ``{scheduled}`` becomes the run's scheduled start (UTC, e.g. 20260101T030000Z), so
    every scheduled run gets its own run_id; ``{flow_run}`` the first 8 characters of
    the flow run id. A run_id without tokens is only validated.
    """
    if not isinstance(template, str) or not any(t in template for t in RUN_ID_TOKENS):
        return validate_run_id(template)
    when = scheduled_time or datetime.now(timezone.utc)
    when = when.astimezone(timezone.utc) if when.tzinfo else when
    resolved = template.replace("{scheduled}", f"{when:%Y%m%dT%H%M%S}Z")
    resolved = resolved.replace("{flow_run}", (flow_run_id or "local")[:8])
    return validate_run_id(resolved)

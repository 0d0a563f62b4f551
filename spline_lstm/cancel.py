"""A process-wide request to stop: set once (e.g. by a SIGTERM handler), checked often.

Long work checks it where stopping is safe (after every training batch, before each
candidate, baseline and stage) and raises ``StopRequested`` there, so a polite stop ends
a run within seconds instead of after the epoch, candidate or fleet in progress.
"""

from __future__ import annotations

import threading

from contracts.errors import RunnerExecError

_requested = threading.Event()
_reason = ""


class StopRequested(RunnerExecError):
    """The run was asked to stop (24); nothing of it is committed."""


def request_stop(reason: str) -> None:
    global _reason
    _reason = _reason or reason
    _requested.set()


def stop_requested() -> bool:
    return _requested.is_set()


def raise_if_stop_requested() -> None:
    if _requested.is_set():
        raise StopRequested(
            f"stopped: {_reason or 'a stop was requested'}. Nothing of this run was "
            "committed; an earlier run of this run_id is unchanged. Re-run it when ready",
            quiet=True)


def reset() -> None:
    """Forget a stop request (tests, or a process that runs again afterwards)."""
    global _reason
    _requested.clear()
    _reason = ""

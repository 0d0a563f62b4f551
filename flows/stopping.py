"""Polite stops: SIGTERM (docker stop, systemd, Prefect cancellation, ``timeout``) and
SIGINT end a run within seconds, with a coded error and nothing half-written.

The handler only asks for a stop (spline_lstm/cancel.py); the run notices it after the
current training batch, candidate, baseline or stage, discards its staging tree, fails
its Prefect run with the reason and exits 24 with the SPEC §4 line. If that has not
happened ``GRACE_S`` later, or ``DEAD_API_GRACE_S`` later when the signal also killed the
temporary Prefect server (every API call is then only retried), a watchdog discards the
staging tree (unless a commit is under way: the next run finishes it), prints the line
and exits 24 itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from typing import Callable, Iterator

from contracts.errors import error_line
from spline_lstm.cancel import StopRequested, raise_if_stop_requested, request_stop

GRACE_S = 10.0
DEAD_API_GRACE_S = 3.0
SIGNALS = (signal.SIGTERM, signal.SIGINT)
_watchdog_started = threading.Event()


def catch_early_stops() -> None:
    """From the first line of a command: a signal during its imports (seconds of Prefect
    and TensorFlow) asks for a stop instead of killing the process without its line."""
    for sig in SIGNALS:
        signal.signal(sig, lambda signum, _frame: request_stop(
            f"the process received {signal.Signals(signum).name}"))


@contextlib.contextmanager
def stop_on_signals(cleanup: Callable[[], None] = lambda: None) -> Iterator[None]:
    """While inside, SIGTERM / SIGINT ask the run to stop; ``cleanup`` runs if the run has
    not ended within ``GRACE_S`` (before the watchdog exits the process)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handler(signum, _frame) -> None:
        request_stop(f"the process received {signal.Signals(signum).name}")
        if not _watchdog_started.is_set():
            _watchdog_started.set()
            threading.Thread(target=_watchdog, args=(cleanup,), name="stop-watchdog",
                             daemon=True).start()

    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    for sig in SIGNALS:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _watchdog(cleanup: Callable[[], None]) -> None:
    from flows.cli import temporary_server_gone, write_last_line

    start = time.monotonic()
    while time.monotonic() - start < GRACE_S:
        if time.monotonic() - start >= DEAD_API_GRACE_S and temporary_server_gone():
            break
        time.sleep(0.25)
    with contextlib.suppress(Exception):
        cleanup()
    try:
        raise_if_stop_requested()
    except StopRequested as exc:
        write_last_line(error_line(exc))
    os._exit(StopRequested.exit_code)

"""Process-wide quiet that threads share: the first thread in makes the change, the last
one out undoes it.

``warnings.catch_warnings`` and ``contextlib.redirect_stdout`` swap process-wide state and
put back what they found on entry. Backtest windows, candidates and the series of a
many-series run do their work in threads of one process, and two overlapping uses
interleave: the first to leave restores while the second is still inside (its warnings
reach the console), and the second then restores the state the first made, which stays
for good (every warning ignored, or stdout pointing at stderr).
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from typing import Callable, Iterator


class SharedSwitch:
    """``with switch():`` — ``make()`` runs when the first thread enters and returns what
    undoes it, called when the last thread leaves."""

    def __init__(self, make: Callable[[], Callable[[], None]]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._depth = 0
        self._undo: Callable[[], None] | None = None

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._undo = self._make()
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    undo, self._undo = self._undo, None
                    undo()


def _ignore_every_warning() -> Callable[[], None]:
    saved = warnings.catch_warnings()
    saved.__enter__()
    warnings.simplefilter("ignore")
    return lambda: saved.__exit__(None, None, None)


# Every warning ignored while any thread is inside (statsforecast's and statsmodels'
# optimiser notes during fits; MLflow's advice while a model is logged).
warnings_ignored = SharedSwitch(_ignore_every_warning)

"""Prefect's API server app, with Python's cyclic garbage collector off its event loop.

A Prefect server on SQLite froze now and then for 60 s (6 of 125 runs of the many-series
flow whose two series failed at once, on 2 busy cores; ``benchmarks/server_freeze.py``).
``py-spy dump --native`` of the server during a freeze:

- the event loop's thread was in a garbage collection, freeing an unreachable sqlite3
  cursor, whose ``sqlite3_reset`` waited for its connection's mutex;
- that connection was in use in its aiosqlite thread: ``sqlite3_step`` holds the mutex,
  and it was sleeping in SQLite's busy handler, waiting for the write lock;
- the write lock was held by a transaction whose coroutine runs on the event loop, which
  was the thread stuck in the collection.

Nothing moves until the busy handler gives up, at Prefect's ``PRAGMA busy_timeout`` of
60 s; the request fails with 503 and the client retries. Here the automatic collection is
switched off in the server's process and a thread of its own collects on the same
thresholds. A collection that meets a busy connection now waits in that thread (the
reset waits without the GIL), while the event loop commits the transaction that holds
the lock. Servers started from this project use it: the commands' temporary server
(``early_start.TemporaryServer``), the test suite's, and the local stack's, which runs
Prefect's own command line through this module:

    python -m flows.server_app server start --host 127.0.0.1 --port 4200
"""

from __future__ import annotations

import gc
import threading
import time

COLLECT_EVERY_S = 0.05  # how often the thread looks at the allocation counts

_started = threading.Event()


def create_app():
    """uvicorn's factory: Prefect's ``create_app()``, the collector moved to its thread."""
    from prefect.server.api.server import create_app as prefect_create_app

    collect_in_own_thread()
    return prefect_create_app()


def collect_in_own_thread() -> None:
    """Switch off automatic collection; a daemon thread collects instead (once a process)."""
    if _started.is_set():
        return
    _started.set()
    gc.disable()
    threading.Thread(target=_collect_forever, name="garbage-collector", daemon=True).start()


def generation_due(counts: tuple[int, int, int], thresholds: tuple[int, int, int]) -> int | None:
    """The oldest generation CPython would collect at these counts, or None.

    As its automatic collection: generation 0 once its allocations pass the first
    threshold; an older one when as many younger collections as its threshold ran since.
    """
    if counts[0] <= thresholds[0]:
        return None
    for generation in (2, 1):
        if counts[generation] > thresholds[generation]:
            return generation
    return 0


def _collect_forever() -> None:
    while True:
        time.sleep(COLLECT_EVERY_S)
        generation = generation_due(gc.get_count(), gc.get_threshold())
        if generation is not None:
            gc.collect(generation)


if __name__ == "__main__":
    import sys

    from prefect.cli import app

    collect_in_own_thread()  # `prefect server start` runs the app in this process
    sys.argv[0] = "prefect"
    sys.exit(app())

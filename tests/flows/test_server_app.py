"""The Prefect server's app: garbage collection kept off its event loop."""

import subprocess
import sys
from pathlib import Path

import pytest

from flows.early_start import TemporaryServer
from flows.server_app import generation_due

ROOT = Path(__file__).resolve().parents[2]

# The freeze met in a SQLite-backed Prefect server, in miniature: "main" stands for the
# event loop. It holds a write transaction (holder) that it must commit; a worker thread
# writes through another connection (waiter) and sleeps in SQLite's busy handler meanwhile,
# holding the waiter's mutex; an unreachable cursor of the waiter, whose statement failed
# with "database is locked" and was never reset, waits for a collection.
# argv[1]: "own-thread" (flows.server_app) or "event-loop" (CPython's automatic collection,
# here run on the main thread at the moment it would fall due).
FREEZE = r'''
import gc, json, os, sqlite3, sys, tempfile, threading, time

own_thread = sys.argv[1] == "own-thread"
if own_thread:
    from flows.server_app import collect_in_own_thread
    collect_in_own_thread()
else:
    gc.disable()
events = []

class Cursor(sqlite3.Cursor):
    def __del__(self):
        events.append("cursor collected on " + threading.current_thread().name)

path = os.path.join(tempfile.mkdtemp(), "t.db")
with sqlite3.connect(path) as setup:
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (x)")
holder = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
waiter = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
holder.execute("BEGIN IMMEDIATE")
holder.execute("INSERT INTO t VALUES (1)")
waiter.execute("PRAGMA busy_timeout = 10")
stale = waiter.cursor(factory=Cursor)
try:
    stale.execute("INSERT INTO t VALUES (2)")
except sqlite3.OperationalError:
    pass
stale.cycle = stale  # unreachable once dropped: only a collection frees it
waiter.execute("PRAGMA busy_timeout = 2000")

def write():
    try:
        waiter.execute("INSERT INTO t VALUES (3)")
        events.append("waiter wrote")
    except sqlite3.OperationalError as exc:
        events.append("waiter gave up: " + str(exc))

worker = threading.Thread(target=write)
worker.start()
time.sleep(0.3)  # the worker is in the busy handler
del stale
if own_thread:
    allocations = [[] for _ in range(5000)]  # past the first threshold, kept till it ran
    time.sleep(0.3)  # the collector's thread meets the cursor
else:
    gc.collect()
holder.execute("COMMIT")
events.append("holder committed")
worker.join()
print(json.dumps(events))
'''


def _freeze(mode: str) -> list[str]:
    import json

    done = subprocess.run([sys.executable, "-c", FREEZE, mode], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_collection_on_the_event_loop_freezes_it_until_the_busy_handler_gives_up():
    # the hazard itself: without the fix the holder cannot commit until the waiter fails
    assert _freeze("event-loop") == ["cursor collected on MainThread",
                                     "waiter gave up: database is locked",
                                     "holder committed"]


def test_the_collectors_own_thread_lets_the_event_loop_commit():
    events = _freeze("own-thread")
    assert events[0] == "cursor collected on garbage-collector"
    assert events[1:] == ["holder committed", "waiter wrote"]


@pytest.mark.parametrize("counts, due", [
    ((700, 0, 0), None),  # at the first threshold, not past it
    ((701, 0, 0), 0),
    ((701, 11, 0), 1),
    ((701, 11, 11), 2),
    ((701, 3, 11), 2),  # the oldest generation whose count is past its threshold
    ((5, 50, 50), None),  # nothing is collected before generation 0 is due
])
def test_generations_fall_due_as_in_cpythons_automatic_collection(counts, due):
    assert generation_due(counts, (700, 10, 10)) == due


def test_the_temporary_server_serves_this_projects_app(monkeypatch):
    spawned = []
    monkeypatch.setattr(subprocess, "Popen", lambda argv, env: spawned.append(argv))
    TemporaryServer().spawn({})
    argv = spawned[0]
    assert argv[argv.index("--factory") + 1] == "flows.server_app:create_app"
    assert argv[argv.index("--app-dir") + 1] == str(ROOT)

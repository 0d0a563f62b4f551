"""Child processes that run a run's side jobs (baselines, tracking) beside its main process.

A run's main process holds the interpreter lock almost all the time (Keras' tracing and
per-step Python, Prefect's engine), so work that needs none of its state — statsforecast's
fits, MLflow's import and store — finishes sooner in a process of its own, on the other
core. A job is any picklable object with a ``run()`` method; a child runs its jobs in the
order sent and answers each with the pickled result, matched back by the job's key.

Children exist only inside ``allowed()`` (the command enables it; tests and library
callers get none unless they ask), start on first use, and are killed when it ends. A
caller always keeps a way to do the job itself (``result_or``): a child that cannot start,
dies, or fails a job makes a run slower, never different.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Callable

from spline_lstm.cancel import raise_if_stop_requested

ROOT = Path(__file__).resolve().parents[1]
_log = logging.getLogger(__name__)

_allowed = False
_lock = threading.Lock()
_children: dict[str, "JobProcess | None"] = {}  # None: it could not start; not again


@contextlib.contextmanager
def allowed():
    """Let this process start children (each on first use); kill them on leaving."""
    global _allowed
    _allowed = True
    try:
        yield
    finally:
        _allowed = False
        shutdown()


def is_allowed() -> bool:
    return _allowed


def shutdown() -> None:
    with _lock:
        children = [child for child in _children.values() if child is not None]
        _children.clear()
    for child in children:
        child.close()


def submit(name: str, key: str, job, *, setup: str = "", nice: int = 0,
           start: bool = True) -> Future | None:
    """Send ``job`` to the child ``name`` (started on first use: ``setup`` is a
    "module:function" it calls first, ``nice`` its priority; ``start`` False: only if it
    runs already). The same key twice is one job. None when children are not allowed or
    this one cannot start."""
    if not _allowed:
        return None
    with _lock:
        if name not in _children:
            if not start:
                return None
            try:
                _children[name] = JobProcess(setup, nice)
            except OSError as exc:
                _log.debug("no %s process (%s): its jobs run here", name, exc)
                _children[name] = None
        child = _children[name]
        return child.submit(key, job) if child is not None else None


def result_or(future: Future | None, compute: Callable[[], object], *, stoppable: bool = True):
    """The job's result from its child, or ``compute()`` here when there is no child or
    it failed there (so a real failure raises here, with its own error). ``stoppable``:
    a stop request ends the wait."""
    if future is not None:
        while True:
            if stoppable:
                raise_if_stop_requested()
            try:
                return future.result(timeout=0.2)
            except TimeoutError:
                continue
            except Exception as exc:  # noqa: BLE001 - done here instead
                _log.debug("a side job failed in its process (%s); running it here", exc)
                break
    return compute()


def succeeded(future: Future | None) -> bool:
    """Did the child answer this job with a result (not an error)?"""
    return future is not None and future.done() and future.exception() is None


class JobProcess:
    """One child running jobs in order.

    Each message is a pickled ``(key, ok, payload)`` whose payload is itself a pickle, so
    a job or result that cannot be unpickled fails that job only. Jobs are written by a
    thread of their own: a large one fills the pipe until the child has finished its
    current job, and the caller must not wait for that. The child exits when its stdin
    closes, and within a second of this process's death, even in the middle of a job.
    """

    def __init__(self, setup: str = "", nice: int = 0) -> None:
        # the caller's working directory (jobs may name relative paths, e.g. the default
        # artifacts dir), the project first on the path (before anything in that directory)
        self.process = subprocess.Popen(
            [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
             "from spline_lstm.job_process import serve; "
             f"serve({setup!r}, {int(nice)}, {os.getpid()})"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.futures: dict[str, Future] = {}
        self.outbox: queue.SimpleQueue = queue.SimpleQueue()
        self.threads = [threading.Thread(target=target, name=f"job-process-{name}", daemon=True)
                        for name, target in (("reader", self._read), ("writer", self._write))]
        for thread in self.threads:
            thread.start()

    def submit(self, key: str, job) -> Future:
        future = self.futures.get(key)
        if future is not None and not (future.done() and future.exception()):
            return future
        future = self.futures[key] = Future()
        try:
            self.outbox.put((key, True, pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)))
        except (pickle.PicklingError, TypeError, ValueError, AttributeError) as exc:
            future.set_exception(exc)
        return future

    def _write(self) -> None:
        while (message := self.outbox.get()) is not None:
            try:
                _send(self.process.stdin, message)
            except (OSError, ValueError) as exc:  # the child is gone: so is this job
                self._fail(message[0], exc)

    def _read(self) -> None:
        try:
            while True:
                key, ok, payload = pickle.load(self.process.stdout)
                future = self.futures.get(key)
                if future is None or future.done():
                    continue
                try:
                    if not ok:
                        raise RuntimeError(payload.decode())
                    future.set_result(pickle.loads(payload))
                except Exception as exc:  # noqa: BLE001 - this job only
                    future.set_exception(exc)
        except Exception as exc:  # noqa: BLE001 - EOF or a dead child: every wait ends
            for key in list(self.futures):
                self._fail(key, RuntimeError(f"the job process is gone: {exc!r}"))

    def _fail(self, key: str, exc: BaseException) -> None:
        future = self.futures.get(key)
        if future is not None and not future.done():
            with contextlib.suppress(Exception):  # done meanwhile by the other thread
                future.set_exception(exc)

    def close(self) -> None:
        """Stop the child now: whatever it still works on, nobody will read."""
        self.process.kill()
        self.process.wait()
        self.outbox.put(None)
        for thread in self.threads:
            thread.join(timeout=2)
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()


def _send(stream, message: tuple) -> None:
    stream.write(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
    stream.flush()


def serve(setup: str = "", nice: int = 0, parent: int | None = None) -> None:
    """The child: call ``setup``, then run jobs until stdin closes (``parent``: the pid
    of the process that started it)."""
    _exit_with_parent(parent or os.getppid())
    if nice:
        os.nice(nice)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not corrupt the answers
    source = sys.stdin.buffer
    try:
        if setup:
            module, _, function = setup.partition(":")
            getattr(__import__(module, fromlist=[function]), function)()
        while True:
            try:
                key, _, payload = pickle.load(source)
            except EOFError:  # the caller closed it
                return
            try:
                answer = (key, True, pickle.dumps(pickle.loads(payload).run(),
                                                  protocol=pickle.HIGHEST_PROTOCOL))
            except Exception as exc:  # noqa: BLE001 - the caller runs the job itself
                answer = (key, False, f"{type(exc).__name__}: {exc}"[:500].encode())
            _send(out, answer)
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group
        return


def _exit_with_parent(parent: int, every_s: float = 0.5) -> None:
    """End this child soon after its parent dies (it is then adopted: another parent
    pid), even in the middle of a job: a killed command leaves no process computing for
    nobody."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()

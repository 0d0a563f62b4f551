"""Overlap the two slow parts of a command's start.

Left to itself, Prefect starts its temporary server (3-6 s to answer on 2 cores) only
when the first flow run asks for a client, and TensorFlow is imported (~3-5 s) only when
the first model trains: two waits one after the other. Once a command's flags and inputs
have passed the preflight, it starts the server's process (so it boots on the other
core), imports TensorFlow meanwhile, and runs its flow against that server.

The server is the one Prefect would start, started the way Prefect starts it (its
uvicorn command line, environment and start-up timeout; its app through
``flows.server_app``, which keeps garbage collection off the server's event loop), but
from here: Prefect's own starter lives in ``prefect.server.api.server``, whose import
alone costs this process 1.6 s of its start, before the server's process can even be
spawned. The flow is pointed at the server with ``PREFECT_API_URL`` (``api_settings``),
and the command stops the server when it ends (``stop``), as Prefect would at exit. The
e2e and many-series commands start it so.

Where the flags pass the preflight, ``flows/e2e.py`` spawns the server before it even
imports its modules (``spawn_before_imports``), so it boots during those imports too.

Only a process that is the command does this: a caller of ``main()`` (a test, a Python
user) has its own server or Prefect's usual start.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

# Prefect's message for a server that did not answer in time (``orchestrator_error`` maps
# it to exit 24 with the fix).
TIMED_OUT = "Timed out while attempting to connect to ephemeral Prefect API server."
PORT_IN_USE = 3  # uvicorn's exit code when its port was taken before it could bind
PROJECT_ROOT = Path(__file__).resolve().parents[1]  # where the server finds flows.server_app

logger = logging.getLogger("prefect")


class TemporaryServer:
    """Prefect's temporary server in a process of its own, on a free loopback port.

    ``factory``: the app uvicorn serves (Prefect's ``prefect.server.api.server:create_app``
    for a comparison, as ``benchmarks/server_freeze.py`` does).
    """

    def __init__(self, factory: str = "flows.server_app:create_app") -> None:
        self.factory = factory
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self.spawned_at = 0.0  # time.monotonic() of the first spawn: the timeout counts from it
        self.settings: dict[str, str] = {}

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def spawn(self, settings: dict[str, str] | None = None) -> None:
        """Start the server's process (Prefect's command line for its temporary server,
        with ``self.factory`` as its app).

        ``settings``: Prefect's settings of this process as variables (Prefect passes them,
        for overrides made in code); before Prefect is imported there are none, and the
        server reads the environment and the active profile as this process would.
        """
        self.port = free_port()
        self.spawned_at = self.spawned_at or time.monotonic()
        self.settings = settings if settings is not None else self.settings  # kept for a respawn
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(PROJECT_ROOT),
             "--factory", self.factory, "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
            env={**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
                 "PREFECT__SERVER_FINAL": "1", **self.settings})

    def wait_until_answering(self, timeout_s: float) -> None:
        """Return once ``/health`` answers 200 (asked at least once); raise Prefect's
        time-out error when ``timeout_s`` seconds from now pass first, or the process exits."""
        import httpx

        deadline = time.monotonic() + timeout_s
        with httpx.Client() as client:
            while True:
                code = self.process.poll()
                if code == PORT_IN_USE:  # taken between our probe and its bind: again
                    self.spawn()
                elif code is not None:
                    raise RuntimeError(f"{TIMED_OUT} Ephemeral server process exited with "
                                       f"code {code}.")
                else:
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                            return
                if time.monotonic() >= deadline:
                    raise RuntimeError(TIMED_OUT)
                time.sleep(0.05)

    def gone(self) -> bool:
        """True when the server's process has exited (a signal to the process group)."""
        return self.process is not None and self.process.poll() is not None

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        logger.info("Stopping temporary server on http://127.0.0.1:%s", self.port)
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def send_queued_to_server(timeout_s: float = 5) -> None:
    """Send what Prefect's log and event workers hold for the server, before it stops: a
    server stopped first leaves them retrying it at exit, for minutes."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        try:
            service.drain_all(timeout=timeout_s)
        except Exception:  # noqa: BLE001 - logs that cannot be sent are in the local log
            pass


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


_state: dict[str, TemporaryServer | None] = {"server": None}


def wants_temporary_server() -> bool:
    """True where Prefect would start a temporary server: no API URL, ephemeral allowed."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    return not PREFECT_API_URL.value() and bool(PREFECT_SERVER_EPHEMERAL_ENABLED.value())


def temporary_server() -> TemporaryServer | None:
    """The server this command started, while it runs."""
    return _state["server"]


def spawn_before_imports(argv: list[str]) -> None:
    """When the command's flags parse and pass the preflight, spawn the temporary server
    now, before the flow's modules (Prefect among them) are imported: it boots during the
    ~2 s they take. Anything wrong is left for ``main()`` to find again and report (it
    parses and checks the same flags); nothing is printed here. A server configured
    through Prefect's profile rather than ``PREFECT_API_URL`` is only known once Prefect
    is imported: ``start_temporary_server`` then stops this one unused.
    """
    import io

    if (_state["server"] is not None or os.environ.get("PREFECT_API_URL")
            or {"-h", "--help"} & set(argv)):
        return
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            from flows.cli import parse_config
            from flows.preflight import preflight

            preflight(parse_config(argv))
    except BaseException:  # noqa: BLE001 - main() meets it again and reports it
        return
    _spawn()


def _spawn(settings: dict[str, str] | None = None) -> TemporaryServer:
    server = TemporaryServer()
    _state["server"] = server
    server.spawn(settings)
    atexit.register(server.stop)  # every way out of the command stops it
    return server


def start_temporary_server() -> TemporaryServer | None:
    """The temporary server's process, spawned now unless it was before the imports; None
    when this run has a server configured (one spawned early is stopped)."""
    server = _state["server"]
    if not wants_temporary_server():
        if server is not None:
            server.stop()
            _state["server"] = None
        return None
    if server is None:
        from prefect.settings import get_current_settings

        server = _spawn(get_current_settings().to_environment_variables(exclude_unset=True))
    logger.info("Starting temporary server on http://127.0.0.1:%s", server.port)
    return server


def import_tensorflow() -> None:
    """Import Keras and TensorFlow now (the training stage would, later, on the same thread)."""
    import keras  # noqa: F401
    import tensorflow  # noqa: F401


def start_overlapped(with_tensorflow: bool = True) -> None:
    """The command's start: the temporary server's process, TensorFlow here meanwhile
    (``with_tensorflow``: when this process trains).

    A server that does not answer within Prefect's start-up timeout
    (``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``, counted from its spawn) raises
    as Prefect raises it, for the command to report as an orchestrator failure (exit 24).
    """
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    server = start_temporary_server()
    if with_tensorflow:
        import_tensorflow()
    if server is not None:
        limit = float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
        server.wait_until_answering(max(0.0, limit - (time.monotonic() - server.spawned_at)))


def api_settings():
    """Prefect's settings for the flow: the started server's API, and no UI links (that
    server serves no UI, as Prefect's own temporary server does not)."""
    server = _state["server"]
    if server is None:
        return contextlib.nullcontext()
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    return temporary_settings(updates={PREFECT_API_URL: server.api_url, PREFECT_UI_URL: ""})

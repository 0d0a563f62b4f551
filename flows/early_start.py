"""Overlap the two slow parts of a command's start.

Left to itself, Prefect starts its temporary server (3-6 s to answer on 2 cores) only
when the first flow run asks for a client, and TensorFlow is imported (~3-5 s) only when
the first model trains: two waits one after the other. Once a command's flags and inputs
have passed the preflight, it starts the server's process (so it boots on the other
core), imports TensorFlow meanwhile, and runs its flow against that server.

The server is the one Prefect would start, started the way Prefect starts it (its
uvicorn command line, environment and start-up timeout), but from here: Prefect's own
starter lives in ``prefect.server.api.server``, whose import alone costs this process
1.6 s of its start, before the server's process can even be spawned. The flow is pointed
at the server with ``PREFECT_API_URL`` (``api_settings``), and the command stops the
server when it ends (``stop``), as Prefect would at exit.

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

# Prefect's message for a server that did not answer in time (``orchestrator_error`` maps
# it to exit 24 with the fix).
TIMED_OUT = "Timed out while attempting to connect to ephemeral Prefect API server."
PORT_IN_USE = 3  # uvicorn's exit code when its port was taken before it could bind

logger = logging.getLogger("prefect")


class TemporaryServer:
    """Prefect's temporary server in a process of its own, on a free loopback port."""

    def __init__(self) -> None:
        self.port: int | None = None
        self.process: subprocess.Popen | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def spawn(self) -> None:
        """Start the server's process (Prefect's command line for its temporary server)."""
        import prefect
        from prefect.settings import get_current_settings

        self.port = _free_port()
        logger.info("Starting temporary server on http://127.0.0.1:%s", self.port)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
             "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
            env={**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
                 "PREFECT__SERVER_FINAL": "1",
                 **get_current_settings().to_environment_variables(exclude_unset=True)})

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


def _free_port() -> int:
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


def start_temporary_server() -> TemporaryServer | None:
    """Spawn the temporary server's process, if this run will use one."""
    if _state["server"] is not None or not wants_temporary_server():
        return None
    server = TemporaryServer()
    _state["server"] = server
    server.spawn()
    atexit.register(server.stop)  # every way out of the command stops it
    return server


def import_tensorflow() -> None:
    """Import Keras and TensorFlow now (the training stage would, later, on the same thread)."""
    import keras  # noqa: F401
    import tensorflow  # noqa: F401


def start_overlapped() -> None:
    """The command's start: the temporary server's process, TensorFlow here meanwhile.

    A server that does not answer within Prefect's start-up timeout
    (``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``, counted from its spawn) raises
    as Prefect raises it, for the command to report as an orchestrator failure (exit 24).
    """
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    started = time.monotonic()
    server = start_temporary_server()
    import_tensorflow()
    if server is not None:
        limit = float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
        server.wait_until_answering(max(0.0, limit - (time.monotonic() - started)))


def api_settings():
    """Prefect's settings for the flow: the started server's API, and no UI links (that
    server serves no UI, as Prefect's own temporary server does not)."""
    server = _state["server"]
    if server is None:
        return contextlib.nullcontext()
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    return temporary_settings(updates={PREFECT_API_URL: server.api_url, PREFECT_UI_URL: ""})

"""Overlap the two slow parts of a command's start.

Left to itself, Prefect starts its temporary server (5-6 s to answer on 2 cores) only
when the first flow run asks for a client, and TensorFlow is imported (~5 s) only when the
first model trains: two waits one after the other. Once a command's flags and inputs
have passed the preflight, it starts the server from a helper thread (the server is its
own process, so it boots on the other core) and imports TensorFlow meanwhile; the flow
then finds the server answering.

Only a process that is the command does this: a caller of ``main()`` (a test, a Python
user) has its own server or Prefect's usual start.
"""

from __future__ import annotations

import threading

_state: dict[str, object] = {"thread": None, "error": None}


def wants_temporary_server() -> bool:
    """True where Prefect would start a temporary server: no API URL, ephemeral allowed."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    return not PREFECT_API_URL.value() and bool(PREFECT_SERVER_EPHEMERAL_ENABLED.value())


def _start_server() -> None:
    from prefect.server.api.server import SubprocessASGIServer  # imported by the caller

    try:
        SubprocessASGIServer().start()
    except BaseException as exc:  # noqa: BLE001 - handed to the main thread by wait()
        _state["error"] = exc


def start_temporary_server() -> bool:
    """Start Prefect's temporary server in the background, if this run will use one."""
    if _state["thread"] is not None or not wants_temporary_server():
        return False
    # Imported here, not in the thread: it would wait there on import locks that
    # TensorFlow's import holds, and the server would start seconds later.
    import prefect.server.api.server  # noqa: F401
    thread = threading.Thread(target=_start_server, name="prefect-server-start", daemon=True)
    _state["thread"] = thread
    thread.start()
    return True


def import_tensorflow() -> None:
    """Import Keras and TensorFlow now (the training stage would, later, on the same thread)."""
    import keras  # noqa: F401
    import tensorflow  # noqa: F401


def wait_for_temporary_server() -> None:
    """Block until the background start has finished; re-raise its failure here.

    Prefect marks the server running before it answers, so a flow must not start while
    the helper thread still waits for it. A start that timed out is raised as Prefect
    raises it, for the command to report as an orchestrator failure (exit 24).
    """
    thread = _state["thread"]
    if thread is None:
        return
    thread.join()
    error, _state["error"] = _state["error"], None
    if error is not None:
        raise error


def start_overlapped() -> None:
    """The command's start: the temporary server in the background, TensorFlow here."""
    started = start_temporary_server()
    import_tensorflow()
    if started:
        wait_for_temporary_server()

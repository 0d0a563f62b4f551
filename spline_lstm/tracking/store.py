"""Where MLflow lives for a run: the tracking URI, the client, the experiment.

Default store: ``sqlite:///{artifacts_dir}/mlflow/mlflow.db`` with the artifacts beside it,
no server needed. ``MLFLOW_TRACKING_URI`` points everything at a server instead.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from contracts.errors import RunnerExecError

EXPERIMENT = "spline-lstm"
STORE_DIRNAME = "mlflow"


MLFLOW_DEFAULTS = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    # An unreachable server must fail a tracking call in seconds, not after minutes of
    # back-off: the run is already safe in its artifacts, tracking can be back-filled.
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}


def set_mlflow_defaults() -> None:
    """MLflow's settings as environment variables, where the user set none.

    Entry points call this at their start (``flows.cli.quiet_environment``), before a
    run starts threads: adding a variable may move the C environment, and a thread
    reading it meanwhile (TensorFlow's runtime does, in C++, all through training) could
    read freed memory. Later calls find every variable set and write nothing.
    """
    for name, value in MLFLOW_DEFAULTS.items():
        os.environ.setdefault(name, value)


def quiet_mlflow() -> None:
    """Settings every MLflow user here wants, before mlflow is imported."""
    set_mlflow_defaults()
    for name in ("alembic", "mlflow.store.db.utils", "mlflow.tracking._tracking_service",
                 "mlflow.store.model_registry.abstract_store"):
        logging.getLogger(name).setLevel(logging.WARNING)


def local_store_dir(artifacts_dir: Path) -> Path:
    return Path(artifacts_dir).resolve() / STORE_DIRNAME


def tracking_uri(artifacts_dir: Path) -> str:
    """MLFLOW_TRACKING_URI when set, else the SQLite store under the artifacts dir."""
    configured = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if configured:
        return configured
    return f"sqlite:///{local_store_dir(artifacts_dir) / 'mlflow.db'}"


def is_local_default(uri: str, artifacts_dir: Path) -> bool:
    return uri == f"sqlite:///{local_store_dir(artifacts_dir) / 'mlflow.db'}"


# Warm-ups in flight by tracking URI (see warm_up); connect() waits for its URI's.
_WARMING: dict[str, threading.Thread] = {}


def warm_up(artifacts_dir: Path) -> None:
    """Import MLflow and open the local store in a background thread.

    A run's track stage comes after its commit, on the critical path of the command, and
    most of it is not logging: importing MLflow (~1 s) and opening the SQLite store (its
    schema check, or its migrations on first use: ~1 s). A run calls this while its
    network trains (TensorFlow's kernels leave the interpreter free), and ``connect``
    then finds both done. Only reads and the store's own creation happen here; a remote
    tracking server is not contacted (the import alone is warmed). Any failure is left
    to ``connect`` to meet again and report with its code.
    """
    uri = tracking_uri(artifacts_dir)
    if uri in _WARMING:
        return
    # Not a daemon: a command's exit waits for it rather than cut a store's creation short.
    thread = threading.Thread(target=WarmUpJob(Path(artifacts_dir)).run, name="mlflow-warm-up")
    _WARMING[uri] = thread
    thread.start()


@dataclass(frozen=True)
class WarmUpJob:
    """Import MLflow and open the local store (see ``warm_up``); a job a child process
    can run too (``spline_lstm.job_process``), before the same child tracks the run."""

    artifacts_dir: Path

    def run(self) -> None:
        uri = tracking_uri(self.artifacts_dir)
        try:
            quiet_mlflow()
            import mlflow  # noqa: F401

            # what logging a run imports besides (0.7 s, mostly scipy.stats)
            from spline_lstm.tracking import log_run, pyfunc, registry, run_model  # noqa: F401
            if is_local_default(uri, self.artifacts_dir):
                client = _open(uri, self.artifacts_dir)
                client.search_registered_models(max_results=1)  # the registry's store too
        except Exception:  # noqa: BLE001 - connect() meets it again, with its code
            pass


def connect(artifacts_dir: Path):
    """An MlflowClient on the run's tracking URI (registry on the same store).

    Raises RUNNER_EXEC_ERROR (24) naming the URI and the fix when the store cannot be
    reached or opened.
    """
    uri = tracking_uri(artifacts_dir)
    warming = _WARMING.pop(uri, None)
    if warming is not None:
        warming.join()
    return _open(uri, artifacts_dir)


def _open(uri: str, artifacts_dir: Path):
    quiet_mlflow()
    from mlflow import MlflowClient

    if is_local_default(uri, artifacts_dir):
        local_store_dir(artifacts_dir).mkdir(parents=True, exist_ok=True)
    # The URI goes to this client only. mlflow.set_tracking_uri would also export it as
    # MLFLOW_TRACKING_URI, and every later run of the process, whatever its artifacts
    # dir, would then be tracked into this run's store.
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    try:
        client.search_experiments(max_results=1)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the store is the same
        raise unreachable(uri, exc) from exc
    return client


def unreachable(uri: str, exc: BaseException) -> RunnerExecError:
    reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    return RunnerExecError(
        f"the MLflow store {uri} cannot be reached ({reason}). Start it "
        "(scripts/local_stack.sh up) or unset MLFLOW_TRACKING_URI to use the local SQLite "
        "store; the run's artifacts are safe, back-fill with `spline-lstm track --run-id ID`",
        quiet=True)


def experiment_id(client, artifacts_dir: Path) -> str:
    """The product's experiment, created on first use (artifacts beside a local store)."""
    found = client.get_experiment_by_name(EXPERIMENT)
    if found is not None:
        return found.experiment_id
    location = None
    if is_local_default(tracking_uri(artifacts_dir), artifacts_dir):
        location = (local_store_dir(artifacts_dir) / "artifacts").as_uri()
    try:
        return client.create_experiment(EXPERIMENT, artifact_location=location)
    except Exception:  # noqa: BLE001 - created meanwhile by a concurrent run
        found = client.get_experiment_by_name(EXPERIMENT)
        if found is None:
            raise
        return found.experiment_id

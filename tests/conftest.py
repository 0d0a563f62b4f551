"""Shared fixtures: tiny seeded series, one Prefect test server, one smoke run."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# Everything the suite and the processes it starts write to the temp folder (pytest's
# tmp_path, TensorFlow's __autograph_generated_file*.py, Dask's dask-scratch-space, runs
# killed on purpose) goes into one folder of this session, removed when the session ends.
# Under pytest-xdist the workers inherit the controller's TMPDIR and share its folder (their
# tmp_path lies in the controller's basetemp); the controller removes it at the end.
if os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get("TMPDIR"):
    SESSION_TMP = os.environ["TMPDIR"]
else:
    SESSION_TMP = tempfile.mkdtemp(prefix="spline-lstm-tests-")
    os.environ["TMPDIR"] = SESSION_TMP
    # Registered first, so it runs last: after every other cleanup at exit.
    atexit.register(shutil.rmtree, SESSION_TMP, ignore_errors=True)
tempfile.tempdir = SESSION_TMP

# The entry points' own settings (quiet Prefect and TF, one TF thread per op), before
# Prefect or TensorFlow is imported.
from flows.cli import quiet_environment  # noqa: E402

quiet_environment()

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from tests.helpers import TINY_FLAGS, make_series  # noqa: E402


@pytest.fixture
def series_frame() -> pd.DataFrame:
    return make_series()


@pytest.fixture
def series_csv(tmp_path: Path, series_frame: pd.DataFrame) -> Path:
    path = tmp_path / "series.csv"
    series_frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """One temporary Prefect server + database for every flow-level test.

    As Prefect's ``prefect_test_harness`` (a server process on a new SQLite file, the API
    URL set for the session), with the commands' own server (``flows.server_app``), so
    that the suite's flows meet the server its users' commands meet.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.early_start import TemporaryServer, send_queued_to_server

    database = tmp_path_factory.mktemp("prefect") / "prefect-test.db"
    server = TemporaryServer()
    server.spawn({"PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{database}"})
    try:
        server.wait_until_answering(120)
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield
            send_queued_to_server()  # as Prefect's harness: nothing left to retry at exit
    finally:
        server.stop()


@pytest.fixture(scope="session")
def smoke_run(prefect_harness, tmp_path_factory) -> tuple[Path, str]:
    """One complete tiny run, shared read-only; copy its tree before tampering with it."""
    from flows.e2e import main

    artifacts = tmp_path_factory.mktemp("smoke") / "artifacts"
    run_id = "smoke-shared"
    code = main(["--run-id", run_id, "--artifacts-dir", str(artifacts), "--horizon", "3",
                 *TINY_FLAGS, "--tracking", "on"])
    assert code == 0, "the shared smoke run failed; see the test log"
    return artifacts, run_id


def _start_order(item: pytest.Item) -> int:
    """Servers first, then flows, then the rest: the slow files start while there is work
    left to balance them, instead of one of them running alone on one core at the end."""
    if item.get_closest_marker("server"):
        return 0
    return 1 if item.get_closest_marker("flow") else 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A stable sort: the files keep their order within each kind. scripts/test.sh passes
    # --no-loadscope-reorder so that pytest-xdist hands the files out in this order.
    items.sort(key=_start_order)

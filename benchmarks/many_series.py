"""Many-series part of the scale benchmark (``python benchmarks/scale.py --sections many``
and ``--sections servers``).

many: the many-series flow over N small seeded series on the thread pool (with and without
stage tags) and on a local 2-worker Dask cluster, each pass in a fresh process against a
temporary Prefect server (its own database, so the user's runs are untouched).
servers: the same flow on a running ``prefect server start``, its database SQLite or
PostgreSQL (``scripts/postgres.sh``, a cluster in a temporary folder), stage tags off and
on: where the per-task concurrency leases of stage tags stop costing seconds. Per child
run, the orchestration overhead is its wall time around the e2e flow call minus the time
spent inside its stage tasks, read back from the Prefect API: what Prefect's flow/task
runs, the staging commit and the UI artifacts add.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# Small but complete runs: every stage, a short training, the simple baselines, the network
# as the forecast (no backtests: the tasks per run stay those measured before).
SERIES_FLAGS = ["--epochs", "3", "--patience", "3", "--hidden-units", "16", "--lookback", "48",
                "--power", "none", "--seasonal-difference", "0", "--baselines", "simple",
                "--candidates", "lstm"]
SERIES_POINTS = 600


def write_series(folder: Path, n_series: int) -> None:
    from spline_lstm.data.synthetic import synthetic_series

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_series):
        synthetic_series(SERIES_POINTS, seed=i).frame.to_parquet(folder / f"s{i:03d}.parquet")


def stage_seconds(flow_run_ids: list[str]) -> dict[str, float]:
    """Seconds spent inside the stage tasks of each child flow run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterFlowRunId

    if not flow_run_ids:
        return {}
    totals = {run_id: 0.0 for run_id in flow_run_ids}
    with get_client(sync_client=True) as client:
        offset = 0
        while True:
            page = client.read_task_runs(
                task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(
                    any_=flow_run_ids)), limit=200, offset=offset)
            for run in page:
                totals[str(run.flow_run_id)] += run.total_run_time.total_seconds()
            if len(page) < 200:
                return totals
            offset += 200


def one_pass(folder: Path, artifacts: Path, run_id: str, runner_flags: list[str]) -> dict:
    from flows.many import main

    start = time.perf_counter()
    code = main(["--run-id", run_id, "--input-dir", str(folder), "--artifacts-dir",
                 str(artifacts), *runner_flags, *SERIES_FLAGS])
    wall = time.perf_counter() - start
    summary = json.loads((artifacts / "many" / run_id / "summary.json").read_text())
    rows = [r for r in summary["series"] if r["status"] == "completed"]
    inside = stage_seconds([r["flow_run_id"] for r in rows])
    child = np.array([r["seconds"] for r in rows])
    stages = np.array([inside[r["flow_run_id"]] for r in rows])
    return {"runner": summary["runner"], "exit": code, "completed": len(rows),
            "series": len(summary["series"]), "wall_s": wall,
            "child_mean_s": float(child.mean()), "stage_mean_s": float(stages.mean()),
            "overhead_mean_s": float((child - stages).mean()),
            "overhead_max_s": float((child - stages).max()),
            "median_mase": float(np.median([r["mase"] for r in rows])),
            "not_completed": [f"{r['series_id']}: {r.get('message') or r['status']}"
                              for r in summary["series"] if r["status"] != "completed"]}


def not_completed_text(results: list[dict]) -> str:
    """The series a pass did not complete, each with its coded message (a count alone
    cannot say whether a run or the orchestrator failed it); empty when none."""
    lines = [f"- {r.get('database', r.get('runner'))}, stage tags {r['stage_tags']}: {line}"
             for r in results for line in r.get("not_completed", [])]
    return "\n\nSeries not completed:\n" + "\n".join(lines) if lines else ""


THREADS = ["--runner", "threads", "--max-workers", "2"]
DASK = ["--runner", "dask", "--dask-workers", "2"]
# (runner flags, stage tags, series cap): tagged runs cost a lease round trip per task, so
# that pass runs on a few series only, to show the cost without taking an hour.
PASSES = ((THREADS, "off", None), (DASK, "off", None), (THREADS, "on", 8))


def child_many(folder: str, workdir: str, tags: str, *runner_flags: str) -> dict:
    """One pass in a fresh process (its own temporary Prefect server)."""
    from prefect.testing.utilities import prefect_test_harness

    name = f"bench-{runner_flags[1]}-tags-{tags}"
    with prefect_test_harness(server_startup_timeout=120):
        flags = [str(f) for f in runner_flags] + ["--stage-tags", tags]
        result = one_pass(Path(folder), Path(workdir) / name, name, flags)
    return {**result, "stage_tags": tags}


TAGS_NOTE = ("Stage tags: every tagged task run asks the server for a concurrency lease; on "
             "SQLite that request usually collides with the server recording the run's own "
             "state (503 \"database is locked\") and Prefect's client retries it after ~2 s. "
             "The many-series flow therefore runs its children without stage tags unless "
             "`--stage-tags on` asks for them.")


def measure_many(n_series: int, run_child) -> str:
    results = []
    with tempfile.TemporaryDirectory(prefix="many-bench-") as tmp:
        for flags, tags, cap in PASSES:
            folder = Path(tmp) / f"series-{cap or n_series}"
            if not folder.exists():
                write_series(folder, cap or n_series)
            result = run_child("many", folder, tmp, tags, *flags)
            print(f"  many {flags} tags={tags}: {result}", flush=True)
            results.append(result)
    rows = ["| runner | stage tags | series completed | wall s | wall s per series | "
            "child run s (mean) | inside stage tasks s (mean) | orchestration overhead s "
            "per series (mean / max) | median MASE |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            rows.append(f"| failed: {r['error']} |")
            continue
        rows.append(f"| {r['runner']} | {r['stage_tags']} | {r['completed']}/{r['series']} | "
                    f"{r['wall_s']:.1f} | {r['wall_s'] / r['series']:.2f} | "
                    f"{r['child_mean_s']:.2f} | {r['stage_mean_s']:.2f} | "
                    f"**{r['overhead_mean_s']:.2f}** / {r['overhead_max_s']:.2f} | "
                    f"{r['median_mase']:.3f} |")
    return (f"{n_series} series of {SERIES_POINTS} hourly points, flags "
            f"`{' '.join(SERIES_FLAGS)}`; a temporary Prefect server (SQLite) per pass; "
            "passes with a series cap run on the first series only.\n\n"
            + "\n".join(rows) + not_completed_text(results) + "\n\n" + TAGS_NOTE)


# ----------------------------------------------------------------- running servers

SERVER_SERIES = 8
DATABASES = ("sqlite", "postgres")


def child_many_on_server(folder: str, workdir: str, tags: str, api_url: str, database: str,
                         *runner_flags: str) -> dict:
    """One pass in a fresh process against the running server at ``api_url``."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    name = f"bench-{database}-tags-{tags}"
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        flags = [str(f) for f in runner_flags] + ["--stage-tags", tags]
        result = one_pass(Path(folder), Path(workdir) / name, name, flags)
    return {**result, "stage_tags": tags, "database": database}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(api_url: str) -> bool:
    try:
        urllib.request.urlopen(f"{api_url}/health", timeout=2)
        return True
    except OSError:
        return False


@contextmanager
def running_server(database: str, folder: Path):
    """``prefect server start`` on loopback with its own database; yields its API URL."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(folder / "home"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    pg_env = {**os.environ, "SPLINE_PG_DIR": str(folder / "postgres"),
              "SPLINE_PG_PORT": str(_free_port())}
    if database == "postgres":
        started = subprocess.run([str(ROOT / "scripts/postgres.sh"), "up"], env=pg_env,
                                 capture_output=True, text=True)
        if started.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {started.stderr.strip()[-300:]}")
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = started.stdout.strip().splitlines()[-1]
    else:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = \
            f"sqlite+aiosqlite:///{folder / 'prefect.db'}"
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    log = open(folder / "server.log", "w")
    server = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start",
                               "--host", "127.0.0.1", "--port", str(port)], env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not _healthy(api_url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Prefect server on {database} did not start; see "
                                   f"{folder / 'server.log'}")
            time.sleep(1)
        yield api_url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
        if database == "postgres":
            subprocess.run([str(ROOT / "scripts/postgres.sh"), "down"], env=pg_env,
                           capture_output=True)


SERVERS_NOTE = ("Both servers are `prefect server start` on loopback, started fresh for the "
                "section; each pass runs in a fresh process. PostgreSQL: Debian's, started "
                "by `scripts/postgres.sh` in a temporary folder (the same script `scripts/"
                "local_stack.sh up --postgres` uses).")


def measure_servers(run_child) -> str:
    results = []
    with tempfile.TemporaryDirectory(prefix="servers-bench-") as tmp:
        os.chmod(tmp, 0o755)  # as root, PostgreSQL runs as `postgres` and must enter it
        folder = Path(tmp) / "series"
        write_series(folder, SERVER_SERIES)
        for database in DATABASES:
            try:
                with running_server(database, Path(tmp) / database) as api_url:
                    for tags in ("off", "on"):
                        result = run_child("many-server", folder, tmp, tags, api_url,
                                           database, *THREADS)
                        print(f"  {database} tags={tags}: {result}", flush=True)
                        results.append({"database": database, "stage_tags": tags, **result})
            except RuntimeError as exc:
                results.append({"database": database, "stage_tags": "-", "error": str(exc)})
    rows = ["| database | stage tags | series completed | wall s | wall s per series | "
            "child run s (mean) | inside stage tasks s (mean) | orchestration overhead s "
            "per series (mean / max) |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            rows.append(f"| {r['database']} | {r['stage_tags']} | failed: {r['error']} |")
            continue
        rows.append(f"| {r['database']} | {r['stage_tags']} | {r['completed']}/{r['series']} | "
                    f"{r['wall_s']:.1f} | {r['wall_s'] / r['series']:.2f} | "
                    f"{r['child_mean_s']:.2f} | {r['stage_mean_s']:.2f} | "
                    f"**{r['overhead_mean_s']:.2f}** / {r['overhead_max_s']:.2f} |")
    return (f"{SERVER_SERIES} series of {SERIES_POINTS} hourly points on the thread pool (2 "
            f"threads), flags `{' '.join(SERIES_FLAGS)}`.\n\n"
            + "\n".join(rows) + not_completed_text(results) + "\n\n" + SERVERS_NOTE)

"""Many-series part of the scale benchmark (``python benchmarks/scale.py --sections many``).

Runs the many-series flow over N small seeded series on the thread pool (with and without
stage tags) and on a local 2-worker Dask cluster, each pass in a fresh process against a
temporary Prefect server (its own database, so the user's runs are untouched). Per child
run, the orchestration overhead is its wall time around the e2e flow call minus the time
spent inside its stage tasks, read back from the Prefect API: what Prefect's flow/task
runs, the staging commit and the UI artifacts add.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

# Small but complete runs: every stage, a short training, the simple baselines.
SERIES_FLAGS = ["--epochs", "3", "--patience", "3", "--hidden-units", "16", "--lookback", "48",
                "--power", "none", "--seasonal-difference", "0", "--baselines", "simple"]
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
            "median_mase": float(np.median([r["mase"] for r in rows]))}


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
            + "\n".join(rows) + "\n\n" + TAGS_NOTE)

"""Run the many-series children on a thread pool or a Dask cluster, a window at a time.

Each series is one ``series-run`` task (which starts its e2e child flow run); at most
``window`` are in flight, so --fail-fast can stop starting new ones. The rows come back
in input order, one per series, including the ones never started.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass

from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from contracts.errors import RunnerExecError, as_pipeline_error
from spline_lstm.data.many_series import SeriesInput
from spline_lstm.reporting.fleet import SeriesRunFailed

DASK_CONNECT_TIMEOUT = "20s"  # how long --dask-address may take to answer


@dataclass(frozen=True)
class RunnerChoice:
    runner: str = "threads"  # threads | dask
    max_workers: int | None = None
    dask_address: str | None = None
    dask_workers: int = 2


def run_all_series(run_series, inputs: list[SeriesInput], shared: dict, choice: RunnerChoice,
                   fail_fast: bool, logger) -> tuple[list[dict], str]:
    """Submit ``run_series`` for every input on the chosen runner; (rows, runner described)."""
    task_runner, described, window = _task_runner(
        choice.runner, choice.max_workers, choice.dask_address, choice.dask_workers,
        len(inputs), fail_fast)
    with _workers_reach_this_api(local_dask=described.startswith("local Dask")):
        try:
            with task_runner:
                rows = _run_all(run_series, task_runner, inputs, shared, window, fail_fast,
                                logger)
        except (OSError, TimeoutError) as exc:
            raise RunnerExecError(
                f"could not start or reach the {described}: {type(exc).__name__}: {exc}; "
                "check --dask-address and that the scheduler is running") from exc
    return rows, described


def _task_runner(runner: str, max_workers: int | None, dask_address: str | None,
                 dask_workers: int, n_series: int, fail_fast: bool):
    """(task runner, description, how many series may be in flight at once)."""
    if runner == "dask" or dask_address:
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return (DaskTaskRunner(address=dask_address,
                                   client_kwargs={"timeout": DASK_CONNECT_TIMEOUT}),
                    f"Dask cluster at {dask_address}", 2 * dask_workers if fail_fast else n_series)
        logging.getLogger("distributed").setLevel(logging.WARNING)  # cluster chatter
        cluster = {"n_workers": dask_workers, "threads_per_worker": 1, "processes": True,
                   "dashboard_address": None, "host": "127.0.0.1"}
        return (DaskTaskRunner(cluster_kwargs=cluster),
                f"local Dask cluster ({dask_workers} workers)",
                dask_workers if fail_fast else n_series)
    threads = max_workers or os.cpu_count() or 2
    return (ThreadPoolTaskRunner(max_workers=threads), f"thread pool ({threads} threads)",
            threads if fail_fast else n_series)


@contextlib.contextmanager
def _workers_reach_this_api(local_dask: bool):
    """Local Dask workers are new processes: hand them this run's Prefect API address."""
    if not local_dask:
        yield
        return
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        api_url = str(client.api_url).rstrip("/")
    previous = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = api_url
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous


def _run_all(run_series, task_runner, inputs: list[SeriesInput], shared: dict, window: int,
             fail_fast: bool, logger) -> list[dict]:
    """Submit series (at most ``window`` in flight); collect one row per series."""
    queue, running, rows, stop = list(inputs), {}, [], False
    while queue or running:
        while queue and len(running) < window and not stop:
            item = queue.pop(0)
            future = task_runner.submit(run_series, parameters={
                "series_id": item.series_id, "run_id": item.run_id, "input": str(item.path),
                "future_covariates": str(item.future) if item.future else None, **shared})
            running[future] = item
        if not running:
            break
        done = next(as_completed(list(running)))
        item = running.pop(done)
        row = _row_of(done, item)
        rows.append(row)
        logger.info("series %d/%d %s: %s%s (%.1f s)", len(rows), len(inputs), item.series_id,
                    row["status"], f", MASE {row['mase']:.3f}" if row.get("mase") is not None
                    else f" - {row['message'][:200]}", row["seconds"])
        stop = stop or (fail_fast and row["status"] == "failed")
    rows += [_empty_row(item, "skipped", "not started: --fail-fast stopped the run")
             for item in queue]
    order = {item.run_id: i for i, item in enumerate(inputs)}
    return sorted(rows, key=lambda r: order[r["run_id"]])


def _row_of(future, item: SeriesInput) -> dict:
    outcome = future.result(raise_on_failure=False)
    if isinstance(outcome, dict):
        return outcome
    if isinstance(outcome, SeriesRunFailed):
        return outcome.row
    coded = as_pipeline_error(outcome if isinstance(outcome, BaseException)
                              else RuntimeError(repr(outcome)))
    return _empty_row(item, "failed", f"{coded.code.value}: {coded.message}", coded.exit_code)


def _empty_row(item: SeriesInput, status: str, message: str, exit_code: int | None = None
               ) -> dict:
    return {"series_id": item.series_id, "run_id": item.run_id, "status": status,
            "exit_code": exit_code, "mase": None, "best_baseline": None,
            "best_baseline_mase": None, "seconds": 0.0, "message": message}

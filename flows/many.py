"""The ``many-series`` flow: the e2e pipeline over many series, one child run per series.

    python flows/many.py --run-id fleet-01 --input long.csv --series-col series_id [e2e flags]
    python flows/many.py --run-id fleet-01 --input-dir sensors/ --runner dask
    python flows/many.py --run-id fleet-01 --input-dir sensors/ --dask-address tcp://host:8786

Each series becomes an ``e2e`` child flow run with run_id ``{parent}--{series id}`` and its
own SPEC §3 artifacts. The parent writes ``many/{run_id}/summary.{json,md}`` and a table
artifact; it fails only when every series failed, or at the first failure with
``--fail-fast``. Series run on Prefect's thread pool, or on a Dask cluster (prefect-dask).

Covariates: ``--covariate-spec`` applies to every series; the spec's dynamic covariates
are columns of the long-format file (or of each series' file) and travel with their
series. ``--future-covariates`` is long-format too (series id, timestamp, each covariate
known in advance) and is split per series like the input.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows.cli import quiet_environment  # noqa: E402

quiet_environment()
if __name__ == "__main__":
    from flows.stopping import catch_early_stops

    catch_early_stops()

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402
from typing import Literal  # noqa: E402

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact, create_table_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from contracts.artifacts import ManySeriesLayout  # noqa: E402
from contracts.config import RunConfig  # noqa: E402
from contracts.covariate_spec import read_spec  # noqa: E402
from contracts.errors import InvalidArgumentError, as_pipeline_error  # noqa: E402
from contracts.run_id import validate_run_id  # noqa: E402
from flows.fleet_runner import RunnerChoice, run_all_series  # noqa: E402
from spline_lstm.data.many_series import (  # noqa: E402
    SeriesInput,
    folder_series,
    split_future_file,
    split_long_file,
)
from spline_lstm.reporting.fleet import (  # noqa: E402
    SUMMARY_COLUMNS,
    SeriesRunFailed,
    parent_failure,
    summary_markdown,
)
from spline_lstm.store.atomic import write_json, write_text  # noqa: E402
from tasks.logs import artifact_key, as_stage  # noqa: E402

# e2e options that name a series' data or a consumed run: the parent sets them per series.
PER_SERIES_FIELDS = ("run_id", "input", "timestamp_col", "target_col", "artifacts_dir",
                     "overwrite", "processed_npz", "preprocessor_pkl", "preprocess_only")


@task(name="split-series", cache_policy=NO_CACHE)
def prepare_inputs(run_id: str, input: str | None, input_dir: str | None, series_col: str,
                   timestamp_col: str, target_col: str, layout: ManySeriesLayout,
                   covariate_spec: str | None = None, future_covariates: str | None = None
                   ) -> list[SeriesInput]:
    """One input per series: split a long-format file, or list a folder; each with its rows
    of the future-covariates file when there is one."""
    dynamic = read_spec(covariate_spec).dynamic if covariate_spec else ()
    if input_dir:
        inputs = folder_series(Path(input_dir), run_id)
    else:
        inputs = split_long_file(Path(input), series_col, timestamp_col, target_col,
                                 layout.inputs_dir, run_id,
                                 covariates=[i.name for i in dynamic if i.required],
                                 optional=[i.name for i in dynamic if not i.required])
    if future_covariates:
        known = [i.name for i in dynamic if i.known_in_advance]
        inputs = split_future_file(Path(future_covariates), series_col, timestamp_col, known,
                                   inputs, layout.inputs_dir)
    return inputs


@task(name="series-run", task_run_name="{run_id}", cache_policy=NO_CACHE)
def run_series(series_id: str, run_id: str, input: str, artifacts_dir: str, timestamp_col: str,
               target_col: str, overwrite: bool, options: dict,
               future_covariates: str | None = None) -> dict:
    """Run the e2e flow for one series as a child flow run; raise SeriesRunFailed on failure."""
    from flows.child_runs import run_child_flow
    from flows.cli import quiet_console_tracebacks
    from flows.e2e import e2e_flow

    quiet_console_tracebacks()  # on a Dask worker, its console as the command's
    start = time.perf_counter()
    state = run_child_flow(e2e_flow, dict(
        run_id=run_id, input=input, artifacts_dir=artifacts_dir, timestamp_col=timestamp_col,
        target_col=target_col, overwrite=overwrite, future_covariates=future_covariates,
        **options))
    row = {"series_id": series_id, "run_id": run_id, "seconds": time.perf_counter() - start,
           "flow_run_id": str(state.state_details.flow_run_id),
           "worker": f"{socket.gethostname()}:{os.getpid()}"}  # where it ran (threads, Dask)
    if state.is_completed():
        result = state.result()
        return {**row, "status": "completed", "exit_code": 0,
                "mase": result["metrics"]["mase"], "forecaster": result.get("forecaster"),
                "beats_baselines": result["beats_baselines"],
                "best_baseline": result["best_baseline"]["name"],
                "best_baseline_mase": result["best_baseline"]["mase"], "message": ""}
    coded = as_pipeline_error(state.result(raise_on_failure=False))
    raise SeriesRunFailed({**row, "status": "failed", "exit_code": coded.exit_code,
                           "message": f"{coded.code.value}: {coded.message}"})


@flow(name="many-series", flow_run_name="{run_id}", validate_parameters=False)
def many_series_flow(
    run_id: str,
    input: str | None = None,
    input_dir: str | None = None,
    series_col: str = "series_id",
    timestamp_col: str = "timestamp",
    target_col: str = "target",
    artifacts_dir: str = "artifacts",
    options: dict | None = None,
    runner: Literal["threads", "dask"] = "threads",
    max_workers: int | None = None,
    dask_address: str | None = None,
    dask_workers: int = 2,
    fail_fast: bool = False,
    overwrite: bool = False,
    stage_tags: Literal["on", "off"] = "off",
    future_covariates: str | None = None,
) -> dict:
    """Run the pipeline for every series; summarise; fail only as documented above.

    stage_tags: tag the parent's and the children's task runs stage:<stage> (off by
    default: each tag costs a concurrency-lease request, seconds per series on SQLite).
    future_covariates: a long-format file (series id, timestamp, each covariate known in
    advance) split per series; the covariate spec itself is one of ``options``.
    """
    logger = get_run_logger()
    validate_run_id(run_id)
    # children are not tracked unless asked (options={"tracking": "on"}): one MLflow run
    # and registered version per series is a fleet decision, and seconds per series
    options = _validated_options(run_id, {"stage_tags": stage_tags, "tracking": "off",
                                          **(options or {})})
    if bool(input) == bool(input_dir):
        raise InvalidArgumentError("pass exactly one of --input (a long-format file with a "
                                   "series id column) or --input-dir (one file per series)")
    if dask_workers < 1 or (max_workers is not None and max_workers < 1):
        raise InvalidArgumentError("--dask-workers and --max-workers must be at least 1")
    if future_covariates and not options.get("covariate_spec"):
        raise InvalidArgumentError("--future-covariates holds the values of covariates known "
                                   "in advance, which only a --covariate-spec declares; add "
                                   "the spec or leave the file out")
    layout = ManySeriesLayout(Path(artifacts_dir), run_id)
    _claim(layout, overwrite)
    start = time.perf_counter()
    inputs = as_stage(prepare_inputs, "split-series", stage_tags == "on")(
        run_id, input, input_dir, series_col, timestamp_col, target_col, layout,
        options.get("covariate_spec"), future_covariates)
    logger.info("%d series: %s", len(inputs), ", ".join(s.series_id for s in inputs[:10])
                + (" ..." if len(inputs) > 10 else ""))
    shared = {"artifacts_dir": artifacts_dir, "timestamp_col": timestamp_col,
              "target_col": target_col, "overwrite": overwrite, "options": options}
    rows, described = run_all_series(
        run_series, inputs, shared, RunnerChoice(runner, max_workers, dask_address, dask_workers),
        fail_fast, logger)
    seconds = time.perf_counter() - start
    summary = {"run_id": run_id, "runner": described, "seconds": seconds,
               "n_series": len(rows), "series": rows}
    write_json(layout.summary_json, summary)
    markdown = summary_markdown(run_id, rows, described, seconds)
    write_text(layout.summary_md, markdown)
    _publish(run_id, rows, markdown, logger)
    failure = parent_failure(rows, fail_fast)
    if failure is not None:
        raise failure
    return {"run_id": run_id, "summary": str(layout.summary_md), "runner": described,
            "seconds": round(seconds, 2),
            "completed": sum(r["status"] == "completed" for r in rows),
            "failed": sum(r["status"] == "failed" for r in rows)}


def _validated_options(run_id: str, options: dict) -> dict:
    """Check the per-series e2e options now (20), before any series starts."""
    reserved = sorted(set(options) & set(PER_SERIES_FIELDS))
    if reserved:
        raise InvalidArgumentError(f"options {reserved} are set per series by the many-series "
                                   "flow; pass them as its own flags instead")
    # every series has an input file (its own); the check stands in one for them
    RunConfig.build(run_id=f"{run_id}--check", input="each-series.csv", **options)
    if options.get("covariate_spec"):
        read_spec(options["covariate_spec"])  # 20 listing every problem, 21 when absent
    return dict(options)


def _claim(layout: ManySeriesLayout, overwrite: bool) -> None:
    if layout.run_dir.exists():
        if not overwrite:
            raise InvalidArgumentError(
                f"run_id {layout.run_id!r} already has a many-series run under "
                f"{layout.run_dir}; pick a new --run-id or pass --overwrite")
        shutil.rmtree(layout.run_dir)
    layout.run_dir.mkdir(parents=True, exist_ok=True)


def _publish(run_id: str, rows: list[dict], markdown: str, logger) -> None:
    try:
        create_table_artifact(
            key=artifact_key("many", run_id),
            table=[{c: (round(r[c], 4) if isinstance(r.get(c), float) else r.get(c))
                    for c in SUMMARY_COLUMNS} for r in rows],
            description=f"Per-series outcome of {run_id}")
        create_markdown_artifact(key=artifact_key("many-report", run_id), markdown=markdown,
                                 description=f"Many-series summary of {run_id}")
    except Exception as exc:  # noqa: BLE001 - the UI is a convenience, the files are the truth
        logger.warning("could not attach Prefect artifacts: %s", exc)


# ------------------------------------------------------------------------------ command line


def build_parser() -> argparse.ArgumentParser:
    from flows.cli import EXIT_CODES_HELP, ArgumentParser, add_config_flags

    parser = ArgumentParser(
        prog="python flows/many.py",
        description="Run the e2e pipeline over many series as the Prefect flow 'many-series': "
                    "one child run per series (run_id {run-id}--{series id}), a summary table, "
                    "on a thread pool or a Dask cluster.",
        epilog=EXIT_CODES_HELP)
    own = parser.add_argument_group("many-series options")
    own.add_argument("--run-id", required=True, help="Run identifier of the parent run.")
    own.add_argument("--input", help="Long-format CSV/Parquet file: one row per (series, "
                     "timestamp) with a series id column.")
    own.add_argument("--input-dir", help="Folder with one CSV/Parquet file per series; the "
                     "file name (without suffix) is the series id.")
    own.add_argument("--series-col", default="series_id",
                     help="Series id column of --input (default: series_id).")
    own.add_argument("--runner", choices=["threads", "dask"], default="threads",
                     help="threads: Prefect's thread pool (default); dask: a Dask cluster via "
                          "prefect-dask (local unless --dask-address).")
    own.add_argument("--max-workers", type=int, help="Threads of the thread pool (default: "
                     "one per CPU core).")
    own.add_argument("--dask-address", help="Join an existing Dask scheduler, e.g. "
                     "tcp://10.0.0.5:8786 (implies --runner dask). Its workers need this "
                     "project installed, the same --artifacts-dir path and PREFECT_API_URL.")
    own.add_argument("--dask-workers", type=int, default=2, help="Worker processes of the "
                     "local Dask cluster (default: 2).")
    own.add_argument("--fail-fast", action="store_true", help="Stop starting series at the "
                     "first failure and fail the parent run.")
    own.add_argument("--stage-tags", choices=["on", "off"], default="off",
                     help="Tag the task runs stage:<stage> (default: off here). Each tagged "
                          "task run asks the Prefect server for a concurrency lease, seconds "
                          "per series on a SQLite server; turn them on to cap stages with "
                          "concurrency limits.")
    per_series = parser.add_argument_group(
        "pipeline options (applied to every series; see python flows/e2e.py --help)")
    own.add_argument("--tracking", choices=["on", "off"], default="off",
                     help="Track every series' run in MLflow and register it as that series' "
                          "candidate (default: off here; see python flows/e2e.py --help).")
    own.add_argument("--future-covariates", help="Long-format CSV/Parquet file of the "
                     "covariates known in advance over each series' forecast horizon: the "
                     "series id column, the timestamp column and one column per covariate "
                     "the --covariate-spec marks known_in_advance. Split per series.")
    # --covariate-spec applies to every series (its dynamic covariates are columns of the
    # input); --covariates (a subset of the spec) is a single-run flag.
    add_config_flags(per_series, skip=("run_id", "input", "processed_npz", "preprocessor_pkl",
                                       "preprocess_only", "stage_tags", "tracking",
                                       "covariates", "future_covariates"))
    return parser


PARENT_FLAGS = ("run_id", "input", "input_dir", "series_col", "runner", "max_workers",
                "dask_address", "dask_workers", "fail_fast", "timestamp_col", "target_col",
                "artifacts_dir", "overwrite", "stage_tags", "future_covariates")


def parse_parameters(argv: list[str] | None) -> dict:
    """Flow parameters from the command line; e2e options only where they differ."""
    namespace = vars(build_parser().parse_args(argv))
    defaults = {name: field.get_default(call_default_factory=True)
                for name, field in RunConfig.model_fields.items()}
    options = {k: v for k, v in namespace.items()
               if k not in PARENT_FLAGS and v != defaults.get(k)}
    options["tracking"] = namespace["tracking"]
    parameters = {k: namespace[k] for k in PARENT_FLAGS}
    validate_run_id(parameters["run_id"])
    _validated_options(parameters["run_id"], options)
    return {**parameters, "options": options}


def main(argv: list[str] | None = None) -> int:
    from flows.cli import (
        fail,
        orchestrator_error,
        quiet_console_tracebacks,
        running_as_command,
    )
    from flows.early_start import api_settings, start_overlapped
    from flows.run_outcome import print_success
    from flows.stopping import stop_on_signals
    from spline_lstm.cancel import raise_if_stop_requested

    try:
        parameters = parse_parameters(argv)
        raise_if_stop_requested()  # a signal while the command was starting
    except Exception as exc:  # noqa: BLE001 - every failure gets its coded JSON line
        return fail(exc)
    quiet_console_tracebacks()
    try:
        if running_as_command():
            # the temporary server (flows.server_app); series on Dask train elsewhere
            start_overlapped(with_tensorflow=parameters["runner"] == "threads"
                             and not parameters["dask_address"])
            raise_if_stop_requested()
        # Series in threads check the same stop request after every training batch.
        with stop_on_signals(), api_settings():
            state = many_series_flow(**parameters, return_state=True)
    except BaseException as exc:  # noqa: BLE001 - the orchestrator itself failed
        return fail(orchestrator_error(exc))
    if state.is_completed():
        print_success(state.result())
        return 0
    return fail(state.result(raise_on_failure=False))


if __name__ == "__main__":
    from flows.cli import standalone

    standalone(main)

"""The ``e2e`` flow: ingest -> spline-interpolate -> scale/window -> train -> backtest ->
evaluate (the forecast chosen across families) -> infer-snapshot -> report -> health-gate,
all under one run_id.

Run it: ``python flows/e2e.py --run-id demo-001`` (``--help`` lists every flag), or as
a deployment: ``prefect deployment run e2e/smoke``. Stages write into a private staging
tree; the artifacts move into ``--artifacts-dir`` only after the gate passes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows.cli import quiet_environment  # noqa: E402

quiet_environment()
if __name__ == "__main__":
    from flows.early_start import spawn_before_imports
    from flows.stopping import catch_early_stops

    catch_early_stops()
    spawn_before_imports(sys.argv[1:])  # Prefect's server boots while the modules import

from contextlib import nullcontext  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

from prefect import flow, get_run_logger  # noqa: E402

from contracts.config import RunConfig  # noqa: E402
from contracts.records import DataSummary  # noqa: E402
from contracts.run_id import resolve_run_id  # noqa: E402
from flows.preflight import preflight  # noqa: E402
from flows.run_outcome import publish_failure, publish_success  # noqa: E402
from flows.stopping import stop_on_signals  # noqa: E402
from spline_lstm import job_process  # noqa: E402
from spline_lstm.cancel import raise_if_stop_requested  # noqa: E402
from spline_lstm.store.commit import commit_in_progress  # noqa: E402
from spline_lstm.store.processed_io import processed_sources  # noqa: E402
from spline_lstm.store.workspace import RunWorkspace  # noqa: E402
from tasks.backtest import backtest_folds, backtest_window, run_backtests  # noqa: E402
from tasks.evaluate import evaluate, guess_test_baselines  # noqa: E402
from tasks.gate import health_gate  # noqa: E402
from tasks.infer import infer_snapshot  # noqa: E402
from tasks.ingest import ingest  # noqa: E402
from tasks.interpolate import interpolate_spline  # noqa: E402
from tasks.logs import as_stage, server_caps_stages, wants_stage_tags  # noqa: E402
from tasks.preprocess import load_processed, scale_and_window  # noqa: E402
from tasks.report import write_report  # noqa: E402
from tasks.select import choose_transform, transform_options  # noqa: E402
from tasks.track import track_run  # noqa: E402
from tasks.track import warm_up as warm_up_tracking  # noqa: E402
from tasks.train import train  # noqa: E402


def _default(name: str):
    return RunConfig.model_fields[name].get_default(call_default_factory=True)


def _resolved_run_id(run_id: str) -> str:
    """A deployment's run_id may carry {scheduled} / {flow_run} tokens: fill them."""
    from prefect.runtime import flow_run

    return resolve_run_id(run_id, flow_run.scheduled_start_time, flow_run.id)


def _flow_run_name() -> str:
    from prefect.runtime import flow_run

    try:
        return _resolved_run_id(flow_run.parameters.get("run_id"))
    except Exception:  # noqa: BLE001 - an invalid run_id fails the run itself, with code 20
        return str(flow_run.parameters.get("run_id"))


@flow(name="e2e", flow_run_name=_flow_run_name, validate_parameters=False)
def e2e_flow(
    run_id: str,
    input: str | None = _default("input"),
    timestamp_col: str = _default("timestamp_col"),
    target_col: str = _default("target_col"),
    artifacts_dir: str = _default("artifacts_dir"),
    covariate_spec: str | None = _default("covariate_spec"),
    covariates: list[str] | None = _default("covariates"),
    calendar_features: bool = _default("calendar_features"),
    future_covariates: str | None = _default("future_covariates"),
    freq: str | None = _default("freq"),
    max_gap: int | None = _default("max_gap"),
    fill_method: str = _default("fill_method"),
    lookback: int | None = _default("lookback"),
    horizon: int = _default("horizon"),
    season: list[int] | None = _default("season"),
    val_size: float = _default("val_size"),
    test_size: float = _default("test_size"),
    scaling: str = _default("scaling"),
    power: str = _default("power"),
    difference: int = _default("difference"),
    seasonal_difference: int | None = _default("seasonal_difference"),
    seasonal_adjust: str = _default("seasonal_adjust"),
    absolute_levels: bool = _default("absolute_levels"),
    epochs: int = _default("epochs"),
    patience: int = _default("patience"),
    batch_size: int | None = _default("batch_size"),
    learning_rate: float = _default("learning_rate"),
    hidden_units: list[int] = _default("hidden_units"),
    dropout: float = _default("dropout"),
    seed: int = _default("seed"),
    model: str = _default("model"),
    segment_length: int | None = _default("segment_length"),
    baselines: str = _default("baselines"),
    synthetic_points: int = _default("synthetic_points"),
    processed_npz: str | None = _default("processed_npz"),
    preprocessor_pkl: str | None = _default("preprocessor_pkl"),
    preprocess_only: bool = _default("preprocess_only"),
    overwrite: bool = _default("overwrite"),
    level: list[float] = _default("level"),
    interval_method: str = _default("interval_method"),
    backtest_windows: int | None = _default("backtest_windows"),
    candidates: list[str] | None = _default("candidates"),
    backtest_step: int | None = _default("backtest_step"),
    stage_tags: str = _default("stage_tags"),
    tracking: str = _default("tracking"),
    model_name: str | None = _default("model_name"),
    promote: bool = _default("promote"),
) -> dict:
    """Run the whole pipeline for one run_id; fail (never partially succeed) on any error."""
    values = dict(locals())
    values["run_id"] = _resolved_run_id(run_id)
    config = RunConfig.build(**values)
    with job_process.allowed() if _owns_its_process() else nullcontext():
        return run_pipeline(config)


def _owns_its_process() -> bool:
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    flow_run_id = context.flow_run.id if context and context.flow_run else None
    return owns_its_process(flow_run_id, os.environ, job_process.is_allowed())


def owns_its_process(flow_run_id, environ, side_processes_on: bool) -> bool:
    """Was this process started to run this very flow run (a worker's or a served
    deployment's run: Prefect names it in ``PREFECT__FLOW_RUN_ID``)? Then, as for the
    command, the run's side jobs (baselines, tracking) get processes of their own. A flow
    run inside another's process (the many-series flow's children, a test, a Python
    caller) does not, and the command has turned them on already."""
    started_for = environ.get("PREFECT__FLOW_RUN_ID")
    return (not side_processes_on and flow_run_id is not None and bool(started_for)
            and started_for == str(flow_run_id))


class _Stages:
    """The stage tasks of one run, tagged or not, and the name of the stage running now."""

    def __init__(self, tags: bool) -> None:
        self.tags, self.current = tags, "ingest"

    def __call__(self, name: str, task, tag: str | None = None):
        """Enter stage ``name``; ``task`` with its stage tag when the run wants tags."""
        raise_if_stop_requested()  # a stop asked for during the previous stage
        self.current = name
        return as_stage(task, tag or name, self.tags)


def run_pipeline(config: RunConfig) -> dict:
    logger = get_run_logger()
    start_time = datetime.now(timezone.utc).isoformat()
    workspace = RunWorkspace(Path(config.artifacts_dir), config.run_id)
    consumed = processed_sources(Path(config.processed_npz), config.run_id,
                                 config.preprocessor_pkl) if config.processed_npz else {}
    # Consumed artifacts of this same run_id are read, then re-committed unchanged.
    consumed_paths = {p.resolve() for p in consumed.values()}
    workspace.open(overwrite=config.overwrite,
                   keep=tuple(p for p in workspace.final.preprocessing_artifacts()
                              if p.resolve() in consumed_paths))
    if workspace.recovered:
        logger.warning("finished moving the files of an earlier, interrupted run of %s",
                       config.run_id)
    stage = _Stages(wants_stage_tags(config.stage_tags, server_caps_stages))
    if config.stage_tags == "auto":
        logger.info("stage tags %s", "on: the server caps a stage" if stage.tags else
                    "off: no stage: concurrency limit on the server (--stage-tags on tags "
                    "anyway)")

    def discard_unless_committing() -> None:  # a killed commit is finished by the next run
        if not commit_in_progress(workspace.artifacts_dir, config.run_id):
            workspace.discard()

    try:
        with stop_on_signals(cleanup=discard_unless_committing):
            summary = _run_stages(config, workspace, consumed, stage, start_time)
    except BaseException as exc:
        workspace.discard()
        publish_failure(config, stage.current, exc)
        raise
    finally:
        workspace.close()
    return summary


def _run_stages(config: RunConfig, workspace: RunWorkspace, consumed: dict, stage: _Stages,
                start_time: str) -> dict:
    """Every stage in order, into the staging tree; commit after the gate passes."""
    staged, final = workspace.staged, workspace.final
    pretrained = None
    if config.tracking == "on" and not config.preprocess_only:  # in the tracking child,
        warm_up_tracking(config, early=True)  # if there is one, from the start
    if consumed:
        data = stage("load-processed", load_processed, "scale-window")(
            config.processed_npz, config.preprocessor_pkl, config.run_id)
        for name, source in consumed.items():
            workspace.stage_copy(source, getattr(staged, name))
    else:
        data, pretrained = _prepare(config, workspace, stage)
    if config.preprocess_only:
        stage("health-gate", health_gate)(str(staged.root), config.run_id,
                                          require_training=False)
        stage.current = "commit"
        workspace.commit()
        get_run_logger().info("preprocessing artifacts of %s committed", config.run_id)
        return {"run_id": config.run_id, "preprocess_only": True,
                "processed_npz": str(final.processed_npz)}
    forecaster, training = stage("train", train)(data, config, staged, pretrained)
    if config.tracking == "on":  # MLflow's import and store open while the backtests train
        warm_up_tracking(config, early=False)
    backtests = None
    folds = backtest_folds(config, data)  # 26 now, if the windows asked for do not fit
    if folds:
        backtests = run_backtests(stage("backtest", backtest_window), data.filled(), config,
                                  data.preprocessor.chain.spec, folds, workspace.scratch,
                                  data.data_summary, data.preprocessor.features.relative_names)
    outcome = stage("evaluate", evaluate)(data, forecaster, training, config, staged, final,
                                          start_time, backtests, workspace.scratch)
    # the forward forecast is the chosen candidate's (the network, a baseline or a mix)
    forecast = stage("infer-snapshot", infer_snapshot)(data, outcome.product, outcome, staged)
    stage("report", write_report)(config, data, outcome, training, forecast, staged, final)
    stage("health-gate", health_gate)(str(staged.root), config.run_id)
    stage.current = "commit"
    workspace.commit()
    tracked = stage("track", track_run)(config) if config.tracking == "on" else None
    return publish_success(config, final, outcome.record, forecast, tracked)


def _prepare(config: RunConfig, workspace: RunWorkspace, stage: _Stages) -> tuple:
    """Ingest -> interpolate -> (select transform) -> scale/window; (data, pretrained).

    A function of its own so the raw and filled series are freed before training: at
    10M points they are hundreds of MB.
    """
    ingested = stage("ingest", ingest)(config.input, config.timestamp_col, config.target_col,
                                       config.synthetic_points, config.seed)
    filled = stage("spline-interpolate", interpolate_spline)(
        ingested, config.freq, config.season, config.max_gap, config.fill_method, config)
    summary = DataSummary(source=ingested.source, n_rows=ingested.n_rows,
                          n_missing_values=ingested.n_missing, timezone=ingested.timezone,
                          notes=tuple(ingested.notes))
    del ingested
    guess_test_baselines(config, filled)  # fitted in a child while the network trains
    stage.current = "select-transform"
    options = transform_options(config, filled)
    prepared = pretrained = None
    transform = options[0]
    if len(options) > 1:
        selection = stage("select-transform", choose_transform)(filled, config,
                                                                workspace.scratch, summary)
        winner = selection.winner
        transform, pretrained, prepared = winner.candidate.transform, winner.forecaster, \
            winner.data
        summary = summary.with_selection(selection.summary())
    data = stage("scale-window", scale_and_window)(filled, config, workspace.staged, summary,
                                                    transform, prepared)
    return data, pretrained


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: parse flags, run the flow, map failures to exit codes."""
    from flows.cli import (
        fail,
        orchestrator_error,
        parse_config,
        quiet_console_tracebacks,
        running_as_command,
    )
    from flows.early_start import api_settings, start_overlapped
    from flows.run_outcome import print_success

    try:
        config = parse_config(argv)
        preflight(config)
        raise_if_stop_requested()  # a signal while the command was starting
    except Exception as exc:  # noqa: BLE001 - every failure gets its coded JSON line
        return fail(exc)
    quiet_console_tracebacks()
    try:
        as_command = running_as_command()
        if as_command:
            start_overlapped()  # Prefect's temporary server boots while TensorFlow loads
            raise_if_stop_requested()
        with stop_on_signals(), api_settings(), \
                job_process.allowed() if as_command else nullcontext():
            # a stop while Prefect starts: the watchdog ends it
            state = e2e_flow(**config.model_dump(), return_state=True)
    except BaseException as exc:  # noqa: BLE001 - the orchestrator itself failed
        return fail(orchestrator_error(exc))
    if state.is_completed():
        print_success(state.result())
        return 0
    return fail(state.result(raise_on_failure=False))


if __name__ == "__main__":
    from flows.cli import standalone

    standalone(main)

"""Stage 5: score the model and the baselines on the test split; write metrics.json and the
calibration of the prediction intervals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.arrays import check_window_source
from contracts.artifacts import ArtifactLayout
from contracts.config import RunConfig
from contracts.records import MetricsRecord, TrainingSummary
from spline_lstm import job_process
from spline_lstm.data.frequency import usable_seasons
from spline_lstm.data.interpolate import FilledSeries
from spline_lstm.evaluation.backtest import FoldResult, summarize
from spline_lstm.evaluation.baseline_worker import (
    BaselineInputs,
    BaselineJob,
    SeriesShape,
    eligible,
    prefetch,
    run_baselines_soon,
)
from spline_lstm.evaluation.baselines import BaselineRun, baseline_forecasters
from spline_lstm.evaluation.covariate_effect import covariate_effect
from spline_lstm.evaluation.intervals import (
    calibrate,
    calibrate_blocks,
    intervals_report,
)
from spline_lstm.evaluation.record import build_metrics_record
from spline_lstm.evaluation.scoring import (
    Evaluation,
    evaluate_split,
    inference_snapshot,
)
from spline_lstm.evaluation.verdict import decide
from spline_lstm.models.base import Forecaster
from spline_lstm.models.conformal import ConformalCalibrator
from spline_lstm.models.univariate import UnivariateNetwork
from spline_lstm.selection.families import allowed_families, chooses_models
from spline_lstm.selection.product import (
    Product,
    choose_product,
    fold_blocks,
    network_only,
    validation_block,
)
from spline_lstm.store.atomic import write_json
from spline_lstm.windows.processed import ProcessedData
from spline_lstm.windows.split import SplitBounds, window_origins
from tasks.logs import stage_logger
from tasks.preprocess import settings_for


@dataclass(frozen=True)
class EvaluationOutcome:
    evaluation: Evaluation
    record: MetricsRecord
    calibrator: ConformalCalibrator
    test_bounds: dict[float, tuple[np.ndarray, np.ndarray]]
    product: Forecaster  # the run's forecast: the network, a baseline or a combination


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate(data: ProcessedData, forecaster: Forecaster, training: TrainingSummary,
             config: RunConfig, staged: ArtifactLayout, final: ArtifactLayout,
             start_time: str, backtests: list[FoldResult] | None = None,
             scratch: Path | None = None) -> EvaluationOutcome:
    """Choose the run's forecast across families on the blocks before the test split, then
    score it, the network alone and the baselines on the test split (and, with covariates,
    the same network trained without them, in ``scratch``)."""
    logger = stage_logger()
    pre, test = data.preprocessor, data.origins["test"]
    check_window_source(data.series, data.origins, lookback=pre.lookback, horizon=pre.horizon)
    classical = config.baselines == "all"
    pending = run_baselines_soon(  # often fitted already: see guess_test_baselines
        data, baseline_forecasters(pre.seasons, test, classical=classical,
                                   exogenous=data.n_future > 0),
        test, fit_end=data.bounds.val_end, levels=config.level, start=False)
    baselines = pending.result()
    if baselines.classical or baselines.skipped:
        logger.info("classical baselines %s in %s s%s%s", baselines.classical,
                    baselines.seconds, " (in a side process)" if pending.from_child else "",
                    f"; skipped {baselines.skipped}" if baselines.skipped else "")
    network_test = forecaster.predict(data, test)
    covariates, twin = None, None
    if data.covariates and scratch is not None and hasattr(forecaster, "with_workdir"):
        # the same network without the covariates: reported next to it, and a candidate
        twin = UnivariateNetwork(forecaster.with_workdir(Path(scratch) / "no_covariates"))
        twin_test = twin.fit(data).predict(data, test)
        covariates = covariate_effect(data, network_test, twin, twin_test,
                                      baselines.fitted)
        logger.info("covariates: network test MASE %.4f with them, %.4f without (ratio %.3f)",
                    covariates["network_with"]["mase"], covariates["network_without"]["mase"],
                    covariates["mase_ratio"])
    product = _product(data, forecaster, network_test, baselines, backtests, config,
                       {twin.name: (twin, twin_test)} if twin else {})
    evaluation = evaluate_split(data, product.test_forecast, baselines=baselines.forecasts)
    if product.is_network:
        calibrator = calibrate(data, forecaster, config.level,
                               [(r.y_true, r.y_pred, r.scored) for r in backtests or []],
                               source=_source(backtests))
    else:
        calibrator = calibrate_blocks(data, product.blocks, config.level,
                                      source=_blocks_source(product.choice.blocks))
        product.forecaster.save(staged.chosen_model_dir)
    static_bounds = calibrator.bounds(evaluation.y_pred)
    test_bounds = static_bounds
    if config.interval_method == "adaptive":
        test_bounds, calibrator = calibrator.adapt(evaluation.y_true, evaluation.y_pred,
                                                   evaluation.scored, evaluation.origins)
    record = build_metrics_record(
        data, evaluation, decide(evaluation, chosen=product.baseline_name), training,
        inference_snapshot(data, evaluation),
        checkpoints={"best": str(final.best_checkpoint), "last": str(final.last_checkpoint)},
        start_time=start_time, end_time=datetime.now(timezone.utc).isoformat(),
        baselines=baselines if config.baselines == "all" else None,
        intervals=_intervals_section(evaluation, calibrator, test_bounds, baselines.intervals,
                                     static_bounds if config.interval_method == "adaptive"
                                     else None),
        backtest=summarize(backtests, backtests[0].fold.end - backtests[0].fold.cut)
        if backtests else None, model_choice=product.model_choice, covariates=covariates)
    write_json(staged.metrics_json, record.to_dict())
    write_json(staged.intervals_json, {"run_id": config.run_id, **calibrator.to_dict()})
    verdict = record.verdict
    logger.info("%s", product.model_choice["reason"])
    logger.info("test MASE %.4f (best baseline %s %.4f), RMSE %.4f; interval coverage %s",
                evaluation.metrics["mase"], verdict.best_baseline,
                evaluation.baselines[verdict.best_baseline]["mase"], evaluation.metrics["rmse"],
                {k: round(v["coverage"], 1) for k, v in record.intervals["pipeline"].items()})
    return EvaluationOutcome(evaluation, record, calibrator, test_bounds, product.forecaster)


def guess_test_baselines(config: RunConfig, filled: FilledSeries) -> None:
    """Send the test split's baselines to their side process before the transform is
    chosen (they read the series, its split and seasons, none of the model's choices).

    A guess: the test split's first origin can move with the chosen transform's burn-in,
    and then ``evaluate`` asks for other origins and this job goes unused.
    """
    if not job_process.is_allowed() or config.baselines != "all" or not eligible(filled):
        return
    settings = settings_for(config, filled)
    bounds = SplitBounds.from_fractions(len(filled.values), settings.val_size,
                                        settings.test_size, horizon=settings.horizon)
    seasons = usable_seasons(list(settings.seasons), bounds.train_end)
    test = window_origins(bounds, "test", lookback=settings.lookback,
                          horizon=settings.horizon, observed=filled.observed)
    if len(test) == 0:
        return
    inputs = BaselineInputs(np.asarray(filled.values), bounds,
                            SeriesShape(settings.horizon, seasons))
    prefetch(BaselineJob(inputs, baseline_forecasters(seasons, test, classical=True),
                         test, bounds.val_end, config.level))


def _product(data: ProcessedData, network: Forecaster, network_test: np.ndarray,
             baselines: BaselineRun, backtests: list[FoldResult] | None,
             config: RunConfig, networks: dict[str, tuple[Forecaster, np.ndarray]]) -> Product:
    """The run's forecaster: the network alone, or the best candidate on the backtest
    blocks (the validation split when no window fits); ``networks``: more networks (name
    -> fitted, test forecasts), e.g. the one without covariates."""
    if not chooses_models(config):
        return network_only(network, network_test)
    blocks = fold_blocks(backtests, network.name) if backtests else \
        [validation_block(data, network, classical=config.baselines == "all",
                          others=[fitted for fitted, _ in networks.values()])]
    return choose_product(data, network, network_test, baselines, blocks,
                          allowed_families(config), networks)


def _blocks_source(labels: list[str]) -> str:
    if len(labels) < 2:
        return ", ".join(labels)
    return (f"{', '.join(labels)}, each forecast by the candidate chosen on the other "
            "blocks")


def _source(backtests: list[FoldResult] | None) -> str:
    return "the validation split" + (f" and {len(backtests)} backtest blocks" if backtests
                                     else "")


def _intervals_section(evaluation: Evaluation, calibrator: ConformalCalibrator,
                       test_bounds: dict, native: dict, static: dict | None) -> dict:
    """Coverage, width and interval score on the test split, pipeline and native baselines
    (and, for the adaptive method, what the static calibration alone would have given)."""
    def scored(bounds):
        return intervals_report(evaluation.y_true, bounds, evaluation.scored)

    section = {"levels": calibrator.levels, "calibration": calibrator.to_dict(),
               "pipeline": scored(test_bounds),
               "baselines": {name: scored(bounds) for name, bounds in sorted(native.items())}}
    if static is not None:
        section["pipeline_static"] = scored(static)
    return section

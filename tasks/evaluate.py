"""Stage 5: score the model and the baselines on the test split; write metrics.json."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.arrays import check_window_source
from contracts.artifacts import ArtifactLayout
from contracts.config import RunConfig
from contracts.records import MetricsRecord, TrainingSummary
from spline_lstm.evaluation.baselines import baseline_forecasters, run_baselines
from spline_lstm.evaluation.record import build_metrics_record
from spline_lstm.evaluation.scoring import (
    Evaluation,
    evaluate_split,
    inference_snapshot,
)
from spline_lstm.evaluation.verdict import decide
from spline_lstm.models.base import Forecaster
from spline_lstm.store.atomic import write_json
from spline_lstm.windows.processed import ProcessedData
from tasks.logs import stage_logger


@dataclass(frozen=True)
class EvaluationOutcome:
    evaluation: Evaluation
    record: MetricsRecord


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate(data: ProcessedData, forecaster: Forecaster, training: TrainingSummary,
             config: RunConfig, staged: ArtifactLayout, final: ArtifactLayout,
             start_time: str) -> EvaluationOutcome:
    logger = stage_logger()
    pre, test = data.preprocessor, data.origins["test"]
    check_window_source(data.series, data.origins, lookback=pre.lookback, horizon=pre.horizon)
    baselines = run_baselines(
        data, baseline_forecasters(pre.seasons, test, classical=config.baselines == "all"),
        test, fit_end=data.bounds.val_end)
    if baselines.classical or baselines.skipped:
        logger.info("classical baselines %s in %s s%s", baselines.classical, baselines.seconds,
                    f"; skipped {baselines.skipped}" if baselines.skipped else "")
    evaluation = evaluate_split(data, forecaster.predict(data, test),
                                baselines=baselines.forecasts)
    verdict = decide(evaluation)
    record = build_metrics_record(
        data, evaluation, verdict, training, inference_snapshot(data, evaluation),
        checkpoints={"best": str(final.best_checkpoint), "last": str(final.last_checkpoint)},
        start_time=start_time, end_time=datetime.now(timezone.utc).isoformat(),
        baselines=baselines if config.baselines == "all" else None)
    write_json(staged.metrics_json, record.to_dict())
    logger.info("test MASE %.4f (best baseline %s %.4f), RMSE %.4f", evaluation.metrics["mase"],
                verdict.best_baseline, evaluation.baselines[verdict.best_baseline]["mase"],
                evaluation.metrics["rmse"])
    return EvaluationOutcome(evaluation=evaluation, record=record)

"""Stage 6: the forward forecast beyond the last observation, and predictions.csv."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.artifacts import ArtifactLayout
from contracts.records import ForecastRecord
from spline_lstm.evaluation.scoring import Evaluation
from spline_lstm.models.base import Forecaster
from spline_lstm.models.prediction import forward_forecast
from spline_lstm.reporting.predictions import predictions_frame
from spline_lstm.store.atomic import write_csv
from spline_lstm.windows.processed import ProcessedData
from tasks.logs import stage_logger


@task(name="infer-snapshot", cache_policy=NO_CACHE)
def infer_snapshot(data: ProcessedData, forecaster: Forecaster, evaluation: Evaluation,
                   staged: ArtifactLayout) -> ForecastRecord:
    """Forecast beyond the last observation; write every test and future forecast."""
    forecast = forward_forecast(forecaster, data)
    write_csv(staged.predictions_csv, predictions_frame(data, evaluation, forecast))
    stage_logger().info("forward forecast from %s: %d steps, first %.4g", forecast.origin,
                        len(forecast.values), forecast.values[0])
    return forecast

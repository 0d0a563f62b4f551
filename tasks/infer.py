"""Stage 6: the forward forecast beyond the last observation, with its intervals, and
predictions.csv."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.artifacts import ArtifactLayout
from contracts.records import ForecastRecord
from spline_lstm.models.base import Forecaster
from spline_lstm.models.prediction import forward_forecast, with_intervals
from spline_lstm.reporting.predictions import predictions_frame
from spline_lstm.store.atomic import write_csv
from spline_lstm.windows.processed import ProcessedData
from tasks.evaluate import EvaluationOutcome
from tasks.logs import stage_logger


@task(name="infer-snapshot", cache_policy=NO_CACHE)
def infer_snapshot(data: ProcessedData, forecaster: Forecaster, outcome: EvaluationOutcome,
                   staged: ArtifactLayout) -> ForecastRecord:
    """Forecast beyond the last observation; write every test and future forecast."""
    forecast = with_intervals(forward_forecast(forecaster, data), outcome.calibrator)
    write_csv(staged.predictions_csv, predictions_frame(data, outcome.evaluation, forecast,
                                                       outcome.test_bounds))
    stage_logger().info("forward forecast from %s: %d steps, first %.4g", forecast.origin,
                        len(forecast.values), forecast.values[0])
    return forecast

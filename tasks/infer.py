"""Stage 6: the forward forecast, predictions.csv, the forecast plot, the final report."""

from __future__ import annotations

from dataclasses import replace

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.logs import stage_logger, stage_tags

from contracts.artifacts import ArtifactLayout
from spline_lstm.store.artifact_io import write_bytes, write_csv, write_text
from spline_lstm.models.prediction import forward_forecast, predictions_frame
from spline_lstm.models.network import load_checkpoint
from spline_lstm.reporting.plot import render_forecast_png
from spline_lstm.windows.preprocess import ProcessedData
from spline_lstm.reporting.report import render_report
from tasks.evaluate import EvaluationOutcome


@task(name="infer-snapshot", tags=stage_tags("infer-snapshot"), cache_policy=NO_CACHE)
def infer_snapshot(data: ProcessedData, outcome: EvaluationOutcome,
                   staged: ArtifactLayout) -> dict:
    """Forecast beyond the last observation; write every test and future forecast."""
    logger = stage_logger()
    model = load_checkpoint(staged.best_checkpoint)
    forecast = forward_forecast(model, data)
    write_csv(staged.predictions_csv, predictions_frame(data, outcome.evaluation, forecast))
    png = render_forecast_png(data, outcome.evaluation, forecast,
                              title=f"{outcome.report.run_id}: history, test and forward forecast")
    write_bytes(staged.forecast_png, png)
    report = replace(outcome.report, forecast={**forecast, "origin": str(forecast["origin"]),
                                               "timestamps": [str(t) for t in forecast["timestamps"]]},
                     plot_file=staged.forecast_png.name)
    write_text(staged.report_md, render_report(report))
    logger.info("forward forecast from %s: %d steps, first %.4g", forecast["origin"],
                len(forecast["values"]), forecast["values"][0])
    return {"origin": str(forecast["origin"]), "values": forecast["values"],
            "timestamps": [str(t) for t in forecast["timestamps"]]}

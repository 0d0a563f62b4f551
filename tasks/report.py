"""Stage 7: what people read: the report, the forecast plot and the run's metadata."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.artifacts import ArtifactLayout
from contracts.config import RunConfig
from contracts.records import ForecastRecord, TrainingSummary
from spline_lstm.reporting.plot import render_forecast_png
from spline_lstm.reporting.report import ReportContext, render_report, run_warnings
from spline_lstm.store import provenance
from spline_lstm.store.atomic import write_bytes, write_json, write_text
from spline_lstm.windows.processed import ProcessedData
from tasks.evaluate import EvaluationOutcome
from tasks.logs import stage_logger


@task(name="report", cache_policy=NO_CACHE)
def write_report(config: RunConfig, data: ProcessedData, outcome: EvaluationOutcome,
                 training: TrainingSummary, forecast: ForecastRecord, staged: ArtifactLayout,
                 final: ArtifactLayout) -> None:
    """metadata.json, the forecast plot and the report, from the run's records."""
    record, commit = outcome.record, provenance.git_commit()
    write_json(staged.metadata_json, provenance.metadata_record(
        config, source=data.data_summary.source, start_time=record.timestamps["start_time"],
        end_time=record.timestamps["end_time"], git_commit_sha=commit))
    write_bytes(staged.forecast_png, render_forecast_png(
        data, outcome.evaluation, forecast,
        title=f"{config.run_id}: history, test and forward forecast",
        test_bounds=outcome.test_bounds))
    context = ReportContext(
        run_id=config.run_id, git_commit=commit, command=provenance.reproduce_command(config),
        config=config, preprocessor=data.preprocessor, data_summary=data.data_summary,
        split_points=data.bounds.sizes(), split_windows=data.window_counts(),
        evaluation=outcome.evaluation, verdict=record.verdict, training=training,
        inference=record.inference, forecast=forecast,
        artifacts={p.name if p.parent.name == config.run_id else str(final.relative(p)):
                   str(p) for p in final.required_artifacts()},
        warnings=run_warnings(data.data_summary, training, record.verdict,
                              data.preprocessor.grid),
        plot_file=staged.forecast_png.name, intervals=record.intervals,
        backtest=record.backtest, model_choice=record.model_choice,
        covariates=record.covariates)
    write_text(staged.report_md, render_report(context))
    stage_logger().info("report written: %s", final.report_md)

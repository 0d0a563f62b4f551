"""Stage 5: score the best checkpoint and the baselines on the test split; write
metrics.json, metadata.json and the report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.logs import stage_logger, stage_tags

from contracts.arrays import check_window_source
from contracts.artifacts import ArtifactLayout
from contracts.config import RunConfig
from spline_lstm.store import provenance
from spline_lstm.store.artifact_io import write_json, write_text
from spline_lstm.models.classical import classical_forecasts
from spline_lstm.evaluation.scoring import Evaluation, evaluate_split, inference_snapshot
from spline_lstm.models.prediction import predict_split
from spline_lstm.models.network import load_checkpoint
from spline_lstm.windows.preprocess import ProcessedData
from spline_lstm.evaluation.record import build_metadata_record, build_metrics_record
from spline_lstm.reporting.report import ReportContext, render_report


@dataclass(frozen=True)
class EvaluationOutcome:
    evaluation: Evaluation
    report: ReportContext
    metrics: dict


def _warnings(data: ProcessedData, training: dict, evaluation: Evaluation) -> list[str]:
    found = []
    if not training["early_stopped"]:
        found.append(f"early stopping did not trigger: training ran all "
                     f"{training['epochs_requested']} epochs; more epochs may help")
    name, best = evaluation.best_baseline()
    if not evaluation.metrics["mase"] < best:
        found.append(f"baseline {name} beats the model on the test split (MASE {best:.4g} vs "
                     f"{evaluation.metrics['mase']:.4g})")
    found += [f"input: {note}" for note in data.data_summary.get("notes", [])]
    return found


def data_summary_for_report(data: ProcessedData) -> dict:
    interp = data.preprocessor.interpolation
    return {
        **data.data_summary,
        "n_grid": interp.get("n_grid", data.bounds.n), "freq": data.preprocessor.freq,
        "start": interp.get("start"), "end": interp.get("end"),
        "seasons": data.preprocessor.seasons, "n_filled": interp.get("n_filled", 0),
        "n_gaps": interp.get("n_gaps", 0), "longest_gap": interp.get("longest_gap", 0),
        "fill_method": interp.get("method"),
        "transforms": {"power": data.preprocessor.power.kind,
                       **data.preprocessor.differencer.to_dict(),
                       "seasonal_adjustment": data.preprocessor.adjuster.to_dict()["kind"],
                       "scaler": data.preprocessor.scaler.kind},
        "transform_selection": data.data_summary.get("transform_selection"),
    }


@task(name="evaluate", tags=stage_tags("evaluate"), cache_policy=NO_CACHE)
def evaluate(data: ProcessedData, training: dict, config: RunConfig, staged: ArtifactLayout,
             final: ArtifactLayout, start_time: str) -> EvaluationOutcome:
    logger = stage_logger()
    pre = data.preprocessor
    check_window_source(data.series, data.origins, lookback=pre.lookback, horizon=pre.horizon)
    model = load_checkpoint(staged.best_checkpoint)
    classical = None
    if config.baselines == "all":
        classical = classical_forecasts(data.values, data.bounds.val_end, data.origins["test"],
                                        pre.horizon, pre.seasons)
        logger.info("classical baselines %s in %s s%s", sorted(classical.forecasts),
                    classical.seconds, f"; skipped {classical.skipped}" if classical.skipped else "")
    evaluation = evaluate_split(data, predict_split(model, data, "test"),
                                extra_forecasts=classical.forecasts if classical else None)
    inference = inference_snapshot(data, evaluation)
    end_time = datetime.now(timezone.utc).isoformat()
    metrics = build_metrics_record(config, data, evaluation, training, inference, final,
                                   start_time, end_time)
    if classical is not None:
        metrics["classical_baselines"] = {"fitted_on": "train+val, rolled forward on actuals",
                                          "seconds": classical.seconds,
                                          "skipped": classical.skipped}
    write_json(staged.metrics_json, metrics)
    commit = provenance.git_commit()
    reproduce = provenance.reproduce_command(config)
    write_json(staged.metadata_json, build_metadata_record(
        config, git_commit=commit, versions=provenance.package_versions(),
        command=provenance.invoked_command(), reproduce=reproduce, start_time=start_time,
        end_time=end_time, source=str(data.data_summary.get("source"))))
    context = ReportContext(
        run_id=config.run_id, git_commit=commit, command=reproduce,
        config={**config.model_dump(), "lookback": pre.lookback, "horizon": pre.horizon,
                "segment_length": training["model"]["segment_length"],
                "window_relative": training["model"]["window_relative"]},
        data_summary=data_summary_for_report(data),
        split_summary={"points": data.bounds.sizes(), "windows": data.window_counts()},
        evaluation=evaluation, training=training, inference=inference,
        artifacts={p.name if p.parent.name == config.run_id else str(final.relative(p)):
                   str(p) for p in final.required_artifacts()},
        warnings=_warnings(data, training, evaluation))
    write_text(staged.report_md, render_report(context))
    name, best = evaluation.best_baseline()
    logger.info("test MASE %.4f (best baseline %s %.4f), RMSE %.4f", evaluation.metrics["mase"],
                name, best, evaluation.metrics["rmse"])
    return EvaluationOutcome(evaluation=evaluation, report=context, metrics=metrics)

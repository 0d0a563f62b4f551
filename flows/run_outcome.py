"""What a finished flow run leaves for people: Prefect UI artifacts, failure cards, logs."""

from __future__ import annotations

import json
import traceback
from datetime import datetime, timezone
from pathlib import Path

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from contracts.artifacts import ArtifactLayout, debug_log_path, failure_report_path
from contracts.config import RunConfig
from contracts.errors import as_pipeline_error
from contracts.records import ForecastRecord, MetricsRecord
from spline_lstm.reporting.failure import render_failure_report, runbook_section
from spline_lstm.store.atomic import json_safe, write_text
from spline_lstm.store.provenance import reproduce_command
from tasks.logs import artifact_key


def _metrics_rows(record: MetricsRecord) -> list[dict]:
    rows = [{"forecaster": "model", **_rounded(record.metrics)}]
    rows += [{"forecaster": name, **_rounded(values)} for name, values in
             sorted(record.baselines.items(), key=lambda kv: _mase_key(kv[1]["mase"]))]
    return json_safe(rows)


def _mase_key(value: float) -> float:
    return value if value == value else float("inf")  # NaN last


def _rounded(values: dict) -> dict:
    return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in values.items()}


def publish_success(config: RunConfig, final: ArtifactLayout, record: MetricsRecord,
                    forecast: ForecastRecord, tracked: dict | None = None) -> dict:
    """Attach report, metrics table and artifact paths to the flow run; return a summary."""
    logger = get_run_logger()
    try:
        create_markdown_artifact(key=artifact_key("report", config.run_id),
                                 markdown=final.report_md.read_text(encoding="utf-8"),
                                 description=f"Run report of {config.run_id}")
        create_table_artifact(key=artifact_key("metrics", config.run_id),
                              table=_metrics_rows(record),
                              description=f"Test metrics of {config.run_id}: model vs baselines")
        paths = "\n".join(f"- `{p}`" for p in final.required_artifacts() + (final.forecast_png,))
        create_markdown_artifact(key=artifact_key("artifacts", config.run_id),
                                 markdown=f"# Artifacts of `{config.run_id}`\n\n{paths}\n",
                                 description="Where this run's files are")
    except Exception as exc:  # noqa: BLE001 - the UI is a convenience, the files are the truth
        logger.warning("could not attach Prefect artifacts: %s", exc)
    resolve_failure_card(Path(config.artifacts_dir), config.run_id, logger)
    verdict = record.verdict
    return json_safe({
        "run_id": config.run_id,
        "metrics": {k: record.metrics[k] for k in ("mase", "rmse", "mae", "smape")},
        "forecaster": (record.model_choice or {}).get("chosen"),
        "best_baseline": {"name": verdict.best_baseline, "mase": verdict.best_baseline_mase},
        "beats_baselines": verdict.beats_baselines,
        "report": str(final.report_md),
        "metrics_json": str(final.metrics_json),
        "predictions_csv": str(final.predictions_csv),
        "forecast": forecast.to_dict(),
        **({"tracking": _tracking_summary(tracked)} if tracked else {}),
    })


def _tracking_summary(tracked: dict) -> dict:
    """What the success line says about MLflow: the registered version, or why not."""
    keys = ("status", "model_name", "model_version", "mlflow_run_id", "reason", "promotion",
            "seconds")
    return {k: tracked[k] for k in keys if k in tracked}


def resolve_failure_card(artifacts_dir: Path, run_id: str, logger) -> None:
    """A run_id that succeeds is no longer broken: its old failure card moves to
    ``logs/resolved/``, marked with when it was resolved, so ``logs/*.failed.md`` lists
    only runs that are still failing."""
    card = failure_report_path(artifacts_dir, run_id)
    if not card.is_file():
        return
    resolved = card.parent / "resolved" / card.name
    try:
        write_text(resolved, f"> Resolved: run_id `{run_id}` succeeded at "
                             f"{datetime.now(timezone.utc).isoformat()}.\n\n"
                             + card.read_text(encoding="utf-8"))
        card.unlink()
    except OSError as exc:
        logger.warning("could not move the old failure card %s: %s", card, exc)


def publish_failure(config: RunConfig, stage: str, exc: BaseException) -> None:
    """Write the failure card and trace under logs/, and attach the card to the flow run."""
    logger = get_run_logger()
    coded = as_pipeline_error(exc)
    trace = "".join(traceback.format_exception(exc))
    artifacts_dir = Path(config.artifacts_dir)
    existing = bool(ArtifactLayout(artifacts_dir, config.run_id).existing_artifacts())
    card = render_failure_report(
        run_id=config.run_id, code=coded.code.value, exit_code=coded.exit_code,
        message=coded.message, stage=stage, stack_summary=_stack_summary(exc),
        rerun_command=reproduce_command(config, coded.fix, overwrite=existing),
        runbook_hint=runbook_section(coded))
    try:
        write_text(failure_report_path(artifacts_dir, config.run_id), card)
        log = debug_log_path(artifacts_dir, config.run_id)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"--- {datetime.now(timezone.utc).isoformat()} stage {stage}\n{trace}\n")
    except Exception as write_exc:  # noqa: BLE001 - e.g. an unwritable artifacts dir
        logger.warning("could not write the failure report: %s", write_exc)
    try:
        create_markdown_artifact(key=artifact_key("failure", config.run_id), markdown=card,
                                 description=f"{coded.code.value}: why {config.run_id} failed")
    except Exception as art_exc:  # noqa: BLE001
        logger.warning("could not attach the failure card: %s", art_exc)
    logger.error("stage %s failed: %s (details: %s)", stage, coded,
                 failure_report_path(artifacts_dir, config.run_id))


def _stack_summary(exc: BaseException, frames: int = 6) -> str:
    tb = traceback.extract_tb(exc.__traceback__)[-frames:]
    lines = [f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in tb]
    return "\n".join(lines + [f"{type(exc).__name__}: {exc}"])


def print_success(summary: dict) -> None:
    from flows.cli import stop_temporary_server

    stop_temporary_server()  # its goodbye line comes before ours
    print(json.dumps(json_safe({"ok": True, **summary}), default=str))

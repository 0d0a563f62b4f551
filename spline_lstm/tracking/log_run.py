"""Mirror a committed run into MLflow: one MLflow run per run_id, never two.

Name = run_id; tags: Prefect flow run, git commit, input hash, transform, forecaster;
params = the run's config; metrics = test metrics, baselines', intervals', backtest,
per-epoch losses (with steps); artifacts = report, plot, predictions, metrics, metadata;
the model = the chosen forecaster as a pyfunc (``spline_lstm.tracking.pyfunc``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata as package_metadata
from pathlib import Path

from contracts.artifacts import ArtifactLayout
from contracts.errors import HealthCheckFailedError
from spline_lstm.shared_quiet import SharedSwitch, warnings_ignored
from spline_lstm.store.atomic import read_json
from spline_lstm.store.gate import check_run
from spline_lstm.tracking import store

RUN_ID_TAG = "spline.run_id"
COMPLETE_TAG = "spline.logged"  # set last: a run without it was cut short and is re-logged
MODEL_PATH = "model"


@dataclass(frozen=True)
class Tracked:
    mlflow_run_id: str
    model_uri: str
    tracking_uri: str
    reused: bool  # an earlier, complete MLflow run of this run_id


def find_runs(client, experiment: str, run_id: str) -> list:
    return client.search_runs([experiment], filter_string=f"tags.`{RUN_ID_TAG}` = '{run_id}'",
                              max_results=10)


def log_run(client, artifacts_dir: Path, run_id: str, *, flow_run: dict | None = None
            ) -> Tracked:
    """Log the committed run ``run_id`` (idempotent); raise 30 if it does not pass the gate."""
    root = Path(artifacts_dir)
    gate = check_run(root, run_id)
    if not gate.passed:
        raise HealthCheckFailedError(
            f"run {run_id!r} under {root} does not pass the health gate "
            f"({'; '.join(gate.problems + gate.mismatches)[:400]}); only a complete run is "
            "tracked. Re-run it with --overwrite")
    experiment = store.experiment_id(client, root)
    uri = client.tracking_uri
    for existing in find_runs(client, experiment, run_id):
        if existing.data.tags.get(COMPLETE_TAG) == "true":
            tags = existing.data.tags
            return Tracked(existing.info.run_id, tags.get("spline.model_uri", ""), uri,
                           reused=True)
        client.delete_run(existing.info.run_id)  # cut short earlier: log it again, whole
    return _log_new(client, experiment, root, run_id, flow_run or {})


def _log_new(client, experiment: str, root: Path, run_id: str, flow_run: dict) -> Tracked:

    layout = ArtifactLayout(root, run_id)
    metrics = read_json(layout.metrics_json, "metrics")
    meta = read_json(layout.metadata_json, "metadata")
    checkpoint = read_json(layout.checkpoint_meta_json, "checkpoint_meta")
    config = meta.get("config", {})
    choice = metrics.get("model_choice") or {}
    tags = {RUN_ID_TAG: run_id, "git_commit": str(meta.get("git_commit")),
            "transform": str(metrics.get("dataset", {}).get("transform")),
            "forecaster": str(choice.get("chosen") or config.get("model")),
            "input": str(meta.get("input")), "input_sha256": input_hash(meta.get("input"))}
    tags.update({f"prefect.{k}": str(v) for k, v in flow_run.items() if v})
    run = client.create_run(experiment, run_name=run_id, tags=tags)
    mlflow_id = run.info.run_id
    _log_values(client, mlflow_id, _params(config), run_metrics(metrics, checkpoint))
    for path, folder in ((layout.report_md, "report"), (layout.forecast_png, "report"),
                         (layout.predictions_csv, "predictions"),
                         (layout.metrics_json, "metrics"), (layout.metadata_json, "metadata")):
        if path.is_file():
            client.log_artifact(mlflow_id, str(path), folder)
    with quiet_model_logging():
        model_uri = _log_model(client, mlflow_id, root, run_id,
                               int(metrics["dataset"]["horizon"]))
        client.set_tag(mlflow_id, "spline.model_uri", model_uri)
        client.set_tag(mlflow_id, COMPLETE_TAG, "true")
        client.set_terminated(mlflow_id, "FINISHED")
    return Tracked(mlflow_id, model_uri, client.tracking_uri, reused=False)


def _quiet_stdout_and_model_advice():
    stdout = sys.stdout
    loggers = [logging.getLogger(n) for n in ("mlflow.pyfunc", "mlflow.models", "mlflow.types")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    sys.stdout = sys.stderr

    def restore():
        sys.stdout = stdout
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)

    return restore


# Shared by threads: the tracked series of a many-series run log their models at once.
_stdout_and_model_advice_quiet = SharedSwitch(_quiet_stdout_and_model_advice)


@contextlib.contextmanager
def quiet_model_logging():
    """MLflow's "View run ... at" lines go to stderr (stdout is the command's result), and
    log_model's advice (cloudpickle, type hints, integer columns) is not for operators."""
    with _stdout_and_model_advice_quiet(), warnings_ignored():
        yield


def _log_model(client, mlflow_id: str, root: Path, run_id: str, horizon: int) -> str:
    """Save the pyfunc locally, upload it under the run's ``model/``; its source URI.

    Saved then uploaded rather than ``pyfunc.log_model``: that one also makes a trial
    prediction from the input example (seconds: a classical forecaster refits to forecast).
    The tests load the registered model and compare its forecast with the run's.
    """
    import mlflow
    from mlflow.models import infer_signature

    from spline_lstm.tracking.pyfunc import RunForecastModel, input_example
    from spline_lstm.tracking.run_model import bundle_run

    with tempfile.TemporaryDirectory(prefix="spline-model-") as tmp:
        bundle = bundle_run(root, run_id, Path(tmp) / "run")
        example = input_example(horizon)
        output = _forward_rows(ArtifactLayout(root, run_id))
        saved = Path(tmp) / MODEL_PATH
        mlflow.pyfunc.save_model(
            str(saved), python_model=RunForecastModel(), artifacts={"run": str(bundle)},
            model_config={"run_id": run_id}, signature=infer_signature(example, output),
            input_example=example, pip_requirements=_requirements())
        client.log_artifacts(mlflow_id, str(saved), MODEL_PATH)
    return f"{client.get_run(mlflow_id).info.artifact_uri.rstrip('/')}/{MODEL_PATH}"


def _forward_rows(layout: ArtifactLayout):
    """The run's forward forecast as the model outputs it (for the signature), read from
    its predictions file rather than recomputed."""
    import pandas as pd

    frame = pd.read_csv(layout.predictions_csv)
    frame = frame[frame["kind"] == "forecast"]
    # the schema needs the types only: timestamps as naive datetimes
    out = pd.DataFrame({"timestamp": pd.to_datetime(frame["timestamp"], utc=True)
                        .dt.tz_localize(None).to_numpy(),
                        "value": frame["y_pred"].astype(float)})
    for column in frame.columns:
        if column.startswith(("lo_", "hi_")):
            out[column] = frame[column].astype(float).to_numpy()
    return out.reset_index(drop=True)


def _requirements() -> list[str]:
    """Pinned, not inferred: inferring re-imports TensorFlow in a subprocess (~20 s)."""
    names = ("mlflow", "tensorflow-cpu", "keras", "statsforecast", "pandas", "numpy", "scipy")
    pins = []
    for name in names:
        try:
            pins.append(f"{name}=={package_metadata.version(name)}")
        except package_metadata.PackageNotFoundError:
            continue
    return pins


def _log_values(client, mlflow_id: str, params: list, rows: list) -> None:
    """Params, then metrics in batches of MLflow's limit (one call per metric is a round
    trip each). The config has well under MLflow's 100 params per batch."""
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    metrics = [Metric(key, value, now, step) for key, value, step in rows]
    client.log_batch(mlflow_id, params=params)
    for start in range(0, len(metrics), 1000):
        client.log_batch(mlflow_id, metrics=metrics[start:start + 1000])


def _params(config: dict) -> list:
    from mlflow.entities import Param

    def text(value) -> str:
        return " ".join(map(str, value)) if isinstance(value, list) else str(value)

    return [Param(k, text(v)[:6000]) for k, v in sorted(config.items())]


def run_metrics(metrics: dict, checkpoint: dict) -> list[tuple[str, float, int]]:
    """(key, value, step) of everything numeric worth plotting; non-finite values left out."""
    rows: list[tuple[str, float, int]] = []

    def add(key: str, value, step: int = 0) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                math.isfinite(value):
            rows.append((key, float(value), step))

    for name, value in (metrics.get("metrics") or {}).items():
        add(f"test_{name}", value)
    for baseline, values in (metrics.get("baselines") or {}).items():
        for name in ("mase", "rmse", "mae"):
            add(f"baseline.{baseline}.{name}", (values or {}).get(name))
    network = (metrics.get("model_choice") or {}).get("network_test_metrics") or {}
    for name in ("mase", "rmse", "mae"):
        add(f"network_test_{name}", network.get(name))
    intervals = metrics.get("intervals") or {}
    for level, values in (intervals.get("pipeline") or {}).items():
        for name, value in (values or {}).items():
            add(f"interval_{level}.{name}", value)
    for baseline, levels in (intervals.get("baselines") or {}).items():
        for level, values in (levels or {}).items():
            add(f"baseline.{baseline}.interval_{level}.score",
                (values or {}).get("interval_score"))
    backtest = metrics.get("backtest") or {}
    add("backtest_mase_mean", backtest.get("mase_mean"))
    add("backtest_mase_std", backtest.get("mase_std"))
    for window in backtest.get("per_window") or []:
        add("backtest_window_mase", window.get("mase"), int(window.get("window", 0)))
    for name, series in (checkpoint.get("history") or {}).items():
        for epoch, value in enumerate(series or [], start=1):
            add(f"epoch_{name}", value, epoch)
    return rows


def input_hash(source) -> str:
    """sha256 of the input file ("synthetic" for a generated series, "" if unreadable)."""
    if not source or not Path(str(source)).is_file():
        return "synthetic" if not source or str(source).startswith("synthetic") else ""
    digest = hashlib.sha256()
    with open(source, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

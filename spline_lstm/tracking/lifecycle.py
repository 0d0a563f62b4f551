"""After a run commits: log it, register it as its series' candidate, promote by the policy,
and write what happened into ``metadata/{run_id}.json`` (``tracking``)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from contracts.artifacts import ArtifactLayout
from contracts.errors import as_pipeline_error
from spline_lstm.store.atomic import read_json, write_json
from spline_lstm.tracking import store


def default_model_name(input_path: str | None) -> str:
    """The registered model of a series: its file name without extension ("synthetic")."""
    if not input_path:
        return "synthetic"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(input_path).stem).strip("-._")
    return (stem or "series")[:128]


def track(artifacts_dir: Path, run_id: str, *, model_name: str, promote: bool = False,
          flow_run: dict | None = None, who: str | None = None) -> dict:
    """Log + register (+ promote) ``run_id``; raise a coded error when it cannot."""
    from spline_lstm.tracking import registry
    from spline_lstm.tracking.log_run import log_run

    started = time.perf_counter()
    registry.validate_model_name(model_name)
    client = store.connect(artifacts_dir)
    tracked = log_run(client, artifacts_dir, run_id, flow_run=flow_run)
    version = registry.register(client, model_name, tracked.model_uri, run_id,
                                tracked.mlflow_run_id, artifacts_dir, who)
    record = {"status": "tracked", "tracking_uri": tracked.tracking_uri,
              "mlflow_run_id": tracked.mlflow_run_id, "model_uri": tracked.model_uri,
              "model_name": model_name, "model_version": version,
              "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    record["seconds"] = round(time.perf_counter() - started, 2)
    if promote:
        promoting = time.perf_counter()
        record["promotion"] = _promote_by_policy(client, model_name, version, artifacts_dir,
                                                 who)
        record["promotion"]["seconds"] = round(time.perf_counter() - promoting, 2)
    record_tracking(artifacts_dir, run_id, record)
    return record


def _promote_by_policy(client, model_name: str, version: str, artifacts_dir: Path,
                       who: str | None) -> dict:
    """The policy's verdict on the new version; a failure to decide keeps the champion."""
    from spline_lstm.tracking import registry

    if registry.alias_version(client, model_name, registry.CHAMPION) == version:
        return {"promoted": False, "reason": "already the champion"}
    try:
        outcome = registry.promote(client, model_name, artifacts_dir, version=version, who=who)
    except Exception as exc:  # noqa: BLE001 - the run stays tracked and registered
        return {"promoted": False, "reason": f"not compared: {as_pipeline_error(exc).message}"}
    return {"promoted": outcome["promoted"], "reason": outcome["reason"],
            "previous_champion": outcome.get("previous_champion")}


def track_or_note(artifacts_dir: Path, run_id: str, **kwargs) -> dict:
    """``track`` for a run that already succeeded: a failure is recorded, never raised."""
    try:
        return track(artifacts_dir, run_id, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the artifacts are the truth; back-fill later
        coded = as_pipeline_error(exc)
        record = {"status": "not tracked", "reason": coded.message,
                  "tracking_uri": store.tracking_uri(artifacts_dir),
                  "backfill": f"spline-lstm track --run-id {run_id} --artifacts-dir "
                              f"{artifacts_dir}",
                  "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        try:
            record_tracking(artifacts_dir, run_id, record)
        except Exception:  # noqa: BLE001 - an unwritable metadata file: nothing more to do
            pass
        return record


@dataclass(frozen=True)
class TrackJob:
    """``track_or_note`` as a job a child process can run (``spline_lstm.job_process``)."""

    artifacts_dir: Path
    run_id: str
    options: dict  # track's keyword arguments

    @property
    def key(self) -> str:
        return f"track:{Path(self.artifacts_dir).resolve()}:{self.run_id}"

    def run(self) -> dict:
        return track_or_note(self.artifacts_dir, self.run_id, **self.options)


def record_tracking(artifacts_dir: Path, run_id: str, record: dict) -> None:
    path = ArtifactLayout(Path(artifacts_dir), run_id).metadata_json
    metadata = read_json(path, "metadata")
    metadata["tracking"] = record
    write_json(path, metadata)



def check_tracking(artifacts_dir: Path, run_id: str) -> tuple[list[str], list[str]]:
    """(problems, run_id mismatches) between metadata's ``tracking`` and the MLflow run it
    names; nothing to check for an untracked run."""
    path = ArtifactLayout(Path(artifacts_dir), run_id).metadata_json
    record = (read_json(path, "metadata").get("tracking") or {}) if path.is_file() else {}
    if record.get("status") != "tracked":
        return [], []
    store.quiet_mlflow()
    from mlflow import MlflowClient

    from spline_lstm.tracking.log_run import RUN_ID_TAG

    uri = record.get("tracking_uri") or store.tracking_uri(artifacts_dir)
    try:
        run = MlflowClient(tracking_uri=uri).get_run(str(record.get("mlflow_run_id")))
    except Exception as exc:  # noqa: BLE001 - unreachable store or unknown run alike
        return [f"metadata says MLflow run {record.get('mlflow_run_id')} in {uri}, which "
                f"cannot be read ({str(exc).splitlines()[0][:200] if str(exc) else exc!r}); "
                f"start the store or back-fill with `spline-lstm track --run-id {run_id}`"], []
    found = {"MLflow run name": run.info.run_name,
             f"MLflow tag {RUN_ID_TAG}": run.data.tags.get(RUN_ID_TAG)}
    return [], [f"{where} says run_id {value!r}, path says {run_id!r}"
                for where, value in found.items() if value != run_id]

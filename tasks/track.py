"""After the commit: the run into MLflow, registered as its series' candidate (and promoted
by the policy with --promote). Never fails the run: the artifacts are already committed."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.config import RunConfig
from spline_lstm import job_process
from spline_lstm.tracking import store as tracking_store
from spline_lstm.tracking.lifecycle import TrackJob, default_model_name
from tasks.logs import artifact_key, stage_logger

CHILD = "tracking"
NICE = 10  # its warm-up starts with the flow: spare cycles only


def _in_child(config: RunConfig) -> bool:
    """Track in a child process? Where the command allows children, unless the run
    promotes: the policy scores the champion's model, and that process has no TensorFlow."""
    return job_process.is_allowed() and not config.promote


def warm_up(config: RunConfig, *, early: bool) -> None:
    """Import MLflow and open its store before the track stage needs them.

    In the child that will track the run, from early on (``early``: the flow's start) and
    at a low priority, off this process's interpreter lock; without one, in a thread
    here once the network's training has started (``early`` False), where it costs least.
    """
    job = tracking_store.WarmUpJob(Path(config.artifacts_dir))
    if _in_child(config):
        if early:
            job_process.submit(CHILD, f"warm-up:{Path(config.artifacts_dir).resolve()}", job,
                               nice=NICE)
    elif not early:
        tracking_store.warm_up(job.artifacts_dir)


@task(name="track", cache_policy=NO_CACHE)
def track_run(config: RunConfig) -> dict:
    logger = stage_logger()
    job = TrackJob(Path(config.artifacts_dir), config.run_id, {
        "model_name": config.model_name or default_model_name(config.input),
        "promote": config.promote, "flow_run": flow_run_tags(), "who": who()})
    # never stopped halfway: the run is committed, and its record must say where it is
    future = job_process.submit(CHILD, job.key, job) if _in_child(config) else None
    record = job_process.result_or(future, job.run, stoppable=False)
    where = " (in a side process)" if job_process.succeeded(future) else ""
    if record["status"] != "tracked":
        logger.warning("run %s is not tracked: %s (back-fill: %s)", config.run_id,
                       record["reason"], record["backfill"])
        return record
    logger.info("tracked as MLflow run %s; registered %s version %s (candidate) in %.1f s%s",
                record["mlflow_run_id"], record["model_name"], record["model_version"],
                record["seconds"], where)
    promotion = record.get("promotion")
    if promotion:
        log = logger.info if promotion["promoted"] else logger.warning
        verdict = "promoted to champion" if promotion["promoted"] else "champion unchanged"
        log("%s: %s", verdict, promotion["reason"])
        _promotion_card(config.run_id, record, verdict)
    return record


def _promotion_card(run_id: str, record: dict, verdict: str) -> None:
    """The promotion verdict on the flow run's Artifacts tab (a losing retrain says so)."""
    from prefect.artifacts import create_markdown_artifact

    try:
        create_markdown_artifact(
            key=artifact_key("promotion", record["model_name"]), description=f"{record['model_name']}: {verdict}",
            markdown=f"# {record['model_name']} version {record['model_version']} "
                     f"(run `{run_id}`): {verdict}\n\n{record['promotion']['reason']}\n")
    except Exception as exc:  # noqa: BLE001 - the UI is a convenience
        stage_logger().warning("could not attach the promotion card: %s", exc)


def flow_run_tags() -> dict:
    """The Prefect flow run this runs in: id and UI URL."""
    try:
        from prefect.runtime import flow_run

        url = flow_run.ui_url  # "None/flow-runs/..." where the server serves no UI
        return {"flow_run_id": str(flow_run.id) if flow_run.id else None,
                "flow_run_url": url if url and url.startswith("http") else None}
    except Exception:  # noqa: BLE001 - outside a flow run
        return {}


def who() -> str | None:
    """A deployment's runs act as the deployment; interactive runs as their user."""
    try:
        from prefect.runtime import deployment

        if deployment.name:
            return f"deployment:{deployment.flow_name or 'e2e'}/{deployment.name}"
    except Exception:  # noqa: BLE001
        pass
    return None

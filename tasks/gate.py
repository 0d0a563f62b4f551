"""Stage 7: the health gate. A failed gate fails the flow (30 / 27); never retried."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from spline_lstm.store.gate import check_run, enforce
from tasks.logs import stage_logger


@task(name="health-gate", cache_policy=NO_CACHE)
def health_gate(root: str, run_id: str, require_training: bool = True) -> dict:
    result = check_run(Path(root), run_id, require_training=require_training)
    enforce(result)
    stage_logger().info("health gate passed for %s: %d artifacts checked", run_id,
                          len(result.checked))
    return result.to_dict()

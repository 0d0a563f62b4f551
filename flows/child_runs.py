"""Run a child flow from inside a task without Prefect's per-run stalls.

Measured on the many-series flow against a local SQLite server, two costs had nothing
to do with the work of a series:

- Creating a child run writes to the database right after the calling task started.
  On SQLite that write often collides with the server recording other runs' states (a
  transaction whose read snapshot went stale cannot wait for the lock), the API answers
  503 "database is locked", and Prefect's client retries after a fixed ~2 s back-off.
  Here the child flow run is created up front, hanging off the calling task run (the
  parent/child link the UI shows), and a collision is retried after 50 ms. The calling
  task run reaches the database asynchronously (from its state events) and the link is a
  foreign key, so the child is created only once that task run is recorded.
- A flow run's heartbeat thread sleeps in 1 s steps and is joined when the run ends, so
  every run waits up to 1 s at exit. Children run inside a parent whose own heartbeats
  continue, so the children's are switched off.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

RECORDED_WAIT_S = 3.0
POLL_S = 0.02
COLLISION_ATTEMPTS = 40
COLLISION_RETRY_S = 0.05


def run_child_flow(flow, parameters: dict[str, Any]):
    """Run ``flow`` with ``parameters`` as a child of the current task run; its final state."""
    from prefect.flow_engine import run_flow
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    wait_until_task_run_recorded()
    flow_run = _create_child_flow_run(flow, parameters)
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return run_flow(flow, flow_run=flow_run, parameters=parameters, return_type="state")


def wait_until_task_run_recorded(timeout_s: float = RECORDED_WAIT_S) -> float:
    """Block until the server holds this task run in state Running; seconds waited.

    Gives up after ``timeout_s`` (creating the child may then fail, and the series is
    reported as failed), and returns at once outside a task run.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.context import TaskRunContext

    context = TaskRunContext.get()
    start = time.perf_counter()
    if context is None:
        return 0.0
    with get_client(sync_client=True) as client:
        while time.perf_counter() - start < timeout_s:
            try:
                if client.read_task_run(context.task_run.id).state_type == StateType.RUNNING:
                    break
            except Exception:  # noqa: BLE001 - not recorded yet (404) or a transient error
                pass
            time.sleep(POLL_S)
    return time.perf_counter() - start


def _create_child_flow_run(flow, parameters: dict[str, Any]):
    """Create the Pending child flow run through a client that retries a 503 after 50 ms."""
    from prefect.client.orchestration import get_client
    from prefect.context import TagsContext, TaskRunContext
    from prefect.states import Pending

    context = TaskRunContext.get()
    with get_client(sync_client=True,
                    httpx_settings={"transport": QuickCollisionRetry(retries=3)}) as client:
        return client.create_flow_run(
            flow, parameters=flow.serialize_parameters(parameters), state=Pending(),
            parent_task_run_id=context.task_run.id if context else None,
            tags=TagsContext.get().current_tags)


class QuickCollisionRetry(httpx.HTTPTransport):
    """Re-send a request answered 503 (a rolled-back SQLite collision) after 50 ms.

    Prefect's client retries too, but only after ~2 s. The server answers 503 when the
    transaction was rolled back, so sending again cannot create a run twice.
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for attempt in range(COLLISION_ATTEMPTS):
            response = super().handle_request(request)
            if response.status_code != 503 or attempt == COLLISION_ATTEMPTS - 1:
                return response
            response.close()
            time.sleep(COLLISION_RETRY_S)
        raise AssertionError("unreachable")  # the loop always returns

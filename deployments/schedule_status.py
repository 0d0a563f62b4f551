"""Is scheduled retraining really running? Ask the Prefect server.

    python deployments/schedule_status.py [--deployment e2e/retrain] [--max-age-hours 48]

Checks that the deployment exists, is not paused, has an active schedule and upcoming
scheduled runs; that its work pool has an online worker; that no run is Late; and that
the last completed run is recent (once there is one). Prints one line per check and a
fix for each problem; exits 0 when healthy, 1 otherwise. Needs PREFECT_API_URL.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone


def check(deployment_name: str, max_age: timedelta) -> list[tuple[bool, str]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    results: list[tuple[bool, str]] = []
    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name(deployment_name)
        except Exception as exc:  # noqa: BLE001 - ObjectNotFound and friends
            return [(False, f"deployment {deployment_name} not found ({type(exc).__name__}); "
                            "deploy it: prefect --no-prompt deploy --all")]
        results.append((not deployment.paused,
                        "deployment is not paused" if not deployment.paused else
                        f"deployment is paused: switch it back on in the UI (Deployments) or with "
                        f"prefect deployment schedule resume {deployment_name} <schedule-id>"))
        active = [s for s in deployment.schedules if s.active]
        results.append((bool(active), f"{len(active)} active schedule(s)" if active else
                        "no active schedule: prefect deployment schedule ls "
                        f"{deployment_name}, then prefect deployment schedule resume "
                        f"{deployment_name} <schedule-id>"))
        workers = client.read_workers_for_work_pool(deployment.work_pool_name)
        online = [w for w in workers if str(w.status).upper().endswith("ONLINE")]
        results.append((bool(online), f"{len(online)} online worker(s) in pool "
                        f"{deployment.work_pool_name}" if online else
                        f"no online worker in pool {deployment.work_pool_name}: "
                        f"prefect worker start --pool {deployment.work_pool_name} "
                        "(or scripts/local_stack.sh up)"))
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=200)
        now = datetime.now(timezone.utc)
        upcoming = [r for r in runs if r.state and r.state.is_scheduled()
                    and r.state.name != "Late"]
        late = [r for r in runs if r.state and r.state.name == "Late"]
        if active:
            results.append((bool(upcoming), f"{len(upcoming)} upcoming run(s), next at "
                            f"{min(r.expected_start_time for r in upcoming):%Y-%m-%d %H:%M} UTC"
                            if upcoming else "no upcoming scheduled run: the scheduler is not "
                            "creating runs (check the server log; sqlalchemy must be < 2.1)"))
        results.append((not late, "no late runs" if not late else
                        f"{len(late)} late run(s): nothing is picking them up; start a worker "
                        f"for pool {deployment.work_pool_name}"))
        completed = [r for r in runs if r.state and r.state.is_completed()]
        if completed:
            last = max(r.end_time or r.expected_start_time for r in completed)
            fresh = now - last <= max_age
            results.append((fresh, f"last completed run {last:%Y-%m-%d %H:%M} UTC" if fresh
                            else f"last completed run {last:%Y-%m-%d %H:%M} UTC is older than "
                            f"{max_age}; look at the failed runs in the UI"))
        else:
            results.append((True, "no completed run yet"))
    return results


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python deployments/schedule_status.py",
        description="Check that a scheduled deployment really runs: it exists and is not "
                    "paused, has an active schedule and upcoming runs, its work pool has an "
                    "online worker, no run is Late, and the last completed run is recent. "
                    "One line per check, with the fix for each problem; exit 0 when "
                    "healthy, 1 otherwise. Asks the server at PREFECT_API_URL.")
    parser.add_argument("--deployment", default="e2e/retrain",
                        help="FLOW/DEPLOYMENT to check (default e2e/retrain).")
    parser.add_argument("--max-age-hours", type=float, default=48.0,
                        help="oldest acceptable last completed run (default 48)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    results = check(args.deployment, timedelta(hours=args.max_age_hours))
    for ok, line in results:
        print(f"{'ok  ' if ok else 'FAIL'} {line}")
    healthy = all(ok for ok, _ in results)
    print(f"{args.deployment}: {'healthy' if healthy else 'NOT healthy'}")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())

"""Soak test: many smoke runs, back to back and concurrently, some killed at random.

    .venv/bin/python benchmarks/soak.py [--runs 10] [--concurrency 2] [--kill-share 0.4]
                                        [--time-limit 900] [--seed 0]

Every run is a real ``python flows/e2e.py`` process against one local Prefect server.
Chosen runs get SIGKILL after a random delay (anywhere from start-up to the commit).
Then every run_id is classified by the state it left:

- completed: the health gate passes;
- absent: nothing of the run is in the artifacts tree (killed before its commit);
- interrupted: killed mid-commit, refused by the gate, journal present (the next run of
  that run_id completes it);
- corrupted: anything else, e.g. a process that exited 0 with a failing gate, or files
  without a journal. Must be 0.

Killed runs are then re-run once with --overwrite and must complete (recovered).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.cli import quiet_environment  # noqa: E402

quiet_environment()

RUN_FLAGS = ["--epochs", "20", "--patience", "20", "--hidden-units", "16",
             "--synthetic-points", "900", "--power", "none", "--seasonal-difference", "0",
             "--baselines", "simple"]


@dataclass
class Outcome:
    run_id: str
    killed: bool
    returncode: int | None
    seconds: float


def run_one(run_id: str, artifacts: Path, kill_after: float | None, env: dict,
            extra: tuple[str, ...] = ()) -> Outcome:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "flows/e2e.py", "--run-id", run_id,
                             "--artifacts-dir", str(artifacts), *RUN_FLAGS, *extra],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    killed = False
    try:
        proc.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        killed = True
    return Outcome(run_id, killed, proc.returncode, time.perf_counter() - start)


def classify(artifacts: Path, outcome: Outcome) -> str:
    from contracts.artifacts import ArtifactLayout
    from spline_lstm.store.commit import commit_in_progress
    from spline_lstm.store.gate import check_run

    gate = check_run(artifacts, outcome.run_id)
    if gate.passed:
        return "completed"
    present = ArtifactLayout(artifacts, outcome.run_id).existing_artifacts()
    if commit_in_progress(artifacts, outcome.run_id):
        return "interrupted"
    if not present and outcome.returncode != 0:
        return "absent"
    return "corrupted"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--kill-share", type=float, default=0.5)
    parser.add_argument("--time-limit", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    started = time.perf_counter()
    with prefect_test_harness(server_startup_timeout=120), \
            tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
        artifacts = Path(tmp) / "artifacts"
        # A first, unkilled run measures how long a run takes, so that kill times land
        # anywhere from start-up to the commit.
        first = run_one("soak-000", artifacts, None, env)
        typical = first.seconds * (1.3 if args.concurrency > 1 else 1.0)
        plan = []
        for i in range(1, args.runs):
            kill = rng.random() < args.kill_share
            plan.append((f"soak-{i:03d}", rng.uniform(0.1, 1.05) * typical if kill else None))
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            outcomes = [first] + list(pool.map(lambda p: run_one(p[0], artifacts, p[1], env),
                                               plan))
            states = {o.run_id: classify(artifacts, o) for o in outcomes}
            recovered = []
            if time.perf_counter() - started > args.time_limit:
                print("time limit reached before the recovery runs", file=sys.stderr)
            else:
                to_recover = [o for o in outcomes if states[o.run_id] != "completed"]
                recovered = list(pool.map(lambda o: run_one(
                    o.run_id, artifacts, None, env, ("--overwrite",)), to_recover))
        recovered_ok = [r for r in recovered if classify(artifacts, r) == "completed"]
        counts = {s: sum(v == s for v in states.values())
                  for s in ("completed", "absent", "interrupted", "corrupted")}
        rows = [("runs attempted", len(outcomes)),
                ("killed", sum(o.killed for o in outcomes)),
                ("completed (gate passes)", counts["completed"]),
                ("left nothing (killed before commit)", counts["absent"]),
                ("interrupted mid-commit (refused, journal)", counts["interrupted"]),
                ("corrupted (must be 0)", counts["corrupted"]),
                ("re-runs of unfinished run_ids", len(recovered)),
                ("  ... completed", len(recovered_ok)),
                ("wall time s", round(time.perf_counter() - started))]
    print("| soak | count |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")
    return 0 if counts["corrupted"] == 0 and len(recovered_ok) == len(recovered) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Soak test: many runs, two at a time in one artifacts dir, stopped and killed at random.

    .venv/bin/python benchmarks/soak.py [--runs 16] [--concurrency 2] [--seed 0]
                                        [--time-limit 1200] [--out FILE]

Every run is a real ``python flows/e2e.py`` process against one local Prefect server,
with its own run_id or ``--overwrite`` over an earlier good run. Each gets one fate:

- ``none``: runs to the end;
- ``sigkill`` / ``sigterm``: the signal (to the process group) after a random delay,
  anywhere from start-up to the commit;
- ``commit-kill``: SIGKILL at a random rename of its commit (an ``--overwrite`` commit
  interrupted half-way).

Then every run_id is classified: completed (the gate passes), absent (nothing of it:
stopped before its commit), interrupted (journal present: the next run finishes the
commit) or corrupted (anything else; must be 0). A run_id that held a good run before an
overwrite attempt must hold a good run afterwards (the old one, or the new one complete),
or an interrupted commit: otherwise a good run was damaged (must be 0). A SIGTERM must
end its run with exit 24 (or 0, if it came after the commit) within seconds. Unfinished
run_ids are re-run once with --overwrite and must complete.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
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
             "--baselines", "simple", "--stage-tags", "off"]
FATES = ("none", "sigkill", "sigterm", "commit-kill")
# Runs the CLI with os.replace inside the commit wrapped to SIGKILL the process at rename k.
COMMIT_KILLER = textwrap.dedent("""
    import os, signal, sys, types
    sys.path.insert(0, {root!r})
    import spline_lstm.store.commit as commit
    moves, at = [], int(os.environ["SOAK_KILL_AT_RENAME"])
    def replace(src, dst):
        moves.append(dst)
        if len(moves) == at:
            os.kill(os.getpid(), signal.SIGKILL)
        return os.replace(src, dst)
    commit.os = types.SimpleNamespace(**{{n: getattr(os, n) for n in dir(os) if not n.startswith("__")}})
    commit.os.replace = replace
    from flows.e2e import main
    sys.exit(main(sys.argv[1:]))
""")


@dataclass
class Attempt:
    run_id: str
    fate: str
    overwrite: bool
    delay: float = 0.0  # seconds before the signal
    kill_at: int = 0  # the commit rename that SIGKILLs a commit-kill attempt
    returncode: int | None = None
    seconds: float = 0.0
    stop_seconds: float | None = None  # from SIGTERM to exit


def run(attempt: Attempt, artifacts: Path, env: dict, script: Path) -> Attempt:
    command = [sys.executable, str(script) if attempt.fate == "commit-kill" else "flows/e2e.py",
               "--run-id", attempt.run_id, "--artifacts-dir", str(artifacts), *RUN_FLAGS,
               *(["--overwrite"] if attempt.overwrite else [])]
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        proc.wait(timeout=attempt.delay if attempt.fate in ("sigkill", "sigterm") else 600)
    except subprocess.TimeoutExpired:
        sent = time.perf_counter()
        os.killpg(proc.pid, signal.SIGKILL if attempt.fate == "sigkill" else signal.SIGTERM)
        proc.wait()
        if attempt.fate == "sigterm":
            attempt.stop_seconds = time.perf_counter() - sent
    attempt.returncode, attempt.seconds = proc.returncode, time.perf_counter() - start
    return attempt


def classify(artifacts: Path, run_id: str) -> str:
    from contracts.artifacts import ArtifactLayout
    from spline_lstm.store.commit import commit_in_progress
    from spline_lstm.store.gate import check_run

    if check_run(artifacts, run_id).passed:
        return "completed"
    if commit_in_progress(artifacts, run_id):
        return "interrupted"
    return "corrupted" if ArtifactLayout(artifacts, run_id).existing_artifacts() else "absent"


def plan_attempts(n: int, rng: random.Random, typical: float, good: list[str]) -> list[Attempt]:
    """Fates at random; overwrites only over run_ids that were good before the plan."""
    attempts = []
    for i in range(n):
        overwrite = rng.random() < 0.4
        run_id = good[i % len(good)] if overwrite else f"soak-{len(good) + i:03d}"
        # commit-kill only applies to an --overwrite (a commit that replaces a good run)
        fate = rng.choice((*FATES, "commit-kill") if overwrite else FATES[:3])
        attempts.append(Attempt(run_id, fate, overwrite, delay=rng.uniform(0.1, 1.05) * typical,
                                kill_at=rng.randint(1, 24)))  # 12 files aside, 12 in
    return attempts


def soak(args, artifacts: Path, env: dict, script: Path) -> dict:
    rng = random.Random(args.seed)
    started = time.perf_counter()
    baseline = [run(Attempt(f"soak-{i:03d}", "none", False), artifacts, env, script)
                for i in range(2)]
    good = [a.run_id for a in baseline if classify(artifacts, a.run_id) == "completed"]
    typical = max(a.seconds for a in baseline) * (1.3 if args.concurrency > 1 else 1.0)
    attempts = plan_attempts(args.runs, rng, typical, good)
    # One attempt per run_id at a time (a second would only be refused: tested elsewhere).
    locks = {a.run_id: threading.Lock() for a in attempts}

    def one(attempt: Attempt) -> Attempt:
        with locks[attempt.run_id]:
            return run(attempt, artifacts, {**env, "SOAK_KILL_AT_RENAME": str(attempt.kill_at)},
                       script)

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        done = list(pool.map(one, attempts))
        states = {rid: classify(artifacts, rid) for rid in {a.run_id for a in done} | set(good)}
        unfinished = [rid for rid, state in states.items() if state != "completed"]
        recovered = []
        if time.perf_counter() - started < args.time_limit:
            recovered = list(pool.map(lambda rid: run(Attempt(rid, "none", True), artifacts,
                                                      env, script), unfinished))
    return {"baseline": baseline, "attempts": done, "states": states, "good": good,
            "recovered": [r for r in recovered if classify(artifacts, r.run_id) == "completed"],
            "to_recover": unfinished, "seconds": time.perf_counter() - started}


def render(result: dict, args) -> tuple[str, bool]:
    attempts, states = result["attempts"], result["states"]
    stops = [a.stop_seconds for a in attempts if a.stop_seconds is not None]
    bad_stops = [a for a in attempts if a.fate == "sigterm" and a.returncode not in (0, 24)]
    damaged = [rid for rid in result["good"] if states[rid] not in ("completed", "interrupted")]
    corrupted = [rid for rid, s in states.items() if s == "corrupted"]
    rows = [("runs attempted", len(attempts) + len(result["baseline"])),
            *((f"  fate {fate}", sum(a.fate == fate for a in attempts)) for fate in FATES),
            ("  --overwrite over a good run", sum(a.overwrite for a in attempts)),
            ("run_ids completed (gate passes)", sum(s == "completed" for s in states.values())),
            ("run_ids left with nothing (stopped before the commit)",
             sum(s == "absent" for s in states.values())),
            ("run_ids interrupted mid-commit (refused, journal)",
             sum(s == "interrupted" for s in states.values())),
            ("**corrupted (must be 0)**", len(corrupted)),
            ("**good runs damaged (must be 0)**", len(damaged)),
            ("**SIGTERM not ending in 24 or 0 (must be 0)**", len(bad_stops)),
            ("SIGTERM to exit, max s", round(max(stops), 1) if stops else "—"),
            ("re-runs of unfinished run_ids", len(result["to_recover"])),
            ("  ... completed", len(result["recovered"])),
            ("wall time s", round(result["seconds"]))]
    ok = not corrupted and not damaged and not bad_stops and \
        len(result["recovered"]) == len(result["to_recover"])
    text = ("# Soak\n\n" + f"Command: `python benchmarks/soak.py --runs {args.runs} "
            f"--concurrency {args.concurrency} --seed {args.seed}`.\n\n| soak | count |\n"
            "|---|---|\n" + "\n".join(f"| {label} | {value} |" for label, value in rows) + "\n")
    text += "".join(f"\n- SIGTERM after {a.delay:.1f} s: exit {a.returncode} ({a.run_id})"
                    for a in bad_stops)
    return text, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=16, help="e2e runs in all (default 16)")
    parser.add_argument("--concurrency", type=int, default=2,
                        help="runs at a time, in one artifacts dir (default 2)")
    parser.add_argument("--time-limit", type=float, default=1200.0,
                        help="seconds the whole soak may take (default 1200)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the fates and delays drawn (default 0)")
    parser.add_argument("--out", type=Path, help="also write the Markdown result here")
    args = parser.parse_args()

    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120), \
            tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
        script = Path(tmp) / "commit_killer.py"
        script.write_text(COMMIT_KILLER.format(root=str(ROOT)))
        result = soak(args, Path(tmp) / "artifacts", env, script)
    text, ok = render(result, args)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Tracking benchmark: what MLflow tracking costs a run, and how long a promotion takes.

    .venv/bin/python benchmarks/tracking.py [--out benchmarks/results/tracking.md]

Each store (the default SQLite file under the artifacts dir, and a real ``mlflow server``
on loopback started by scripts/mlflow_server.sh) gets, in fresh processes as a user runs
them, the smoke run (``--epochs 3 --synthetic-points 1200 --seed 42``):

1. with ``--tracking off`` — the reference wall time;
2. with tracking into a store that does not exist yet (the SQLite store is created and
   migrated by this run; the server's experiment is created);
3. again into the now warm store, with ``--promote`` (version 2 against champion 1, which
   ``spline-lstm models promote`` made champion in between, timed as a command).

The "track" stage's own seconds (log run + params + metrics + artifacts + model + register)
are read from the run's success line; the target is < 5 % of a smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
SMOKE = ["--epochs", "3", "--seed", "42", "--synthetic-points", "1200"]


def _run(args: list[str], env: dict) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run([str(PYTHON), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=1800)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(store: str, workdir: Path, env: dict) -> dict:
    artifacts = workdir / "artifacts"
    base = ["flows/e2e.py", "--artifacts-dir", str(artifacts), *SMOKE]
    off, _ = _run([*base, "--run-id", "off", "--tracking", "off"], env)
    print(f"[{store}] smoke, tracking off: {off:.1f} s", file=sys.stderr)
    cold, first = _run([*base, "--run-id", "cold"], env)
    print(f"[{store}] smoke, new store: {cold:.1f} s (track {first['tracking']['seconds']} s)",
          file=sys.stderr)
    promote_wall, promoted = _run(["flows/console.py", "models", "promote", "synthetic",
                                   "--artifacts-dir", str(artifacts), "--json"], env)
    warm, second = _run([*base, "--run-id", "warm", "--promote"], env)
    print(f"[{store}] smoke, warm store + promote: {warm:.1f} s", file=sys.stderr)
    assert first["tracking"]["status"] == second["tracking"]["status"] == "tracked"
    assert promoted["promoted"], promoted
    return {"store": store, "off": off, "cold": cold, "warm": warm,
            "track_cold": first["tracking"]["seconds"],
            "track_warm": second["tracking"]["seconds"],
            "promote_in_run": second["tracking"]["promotion"]["seconds"],
            "promote_verdict": second["tracking"]["promotion"]["reason"],
            "promote_command": promote_wall,
            "same_metrics": first["metrics"] == second["metrics"]}


def render(rows: list[dict]) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    lines = [
        "# Tracking benchmark", "",
        f"`.venv/bin/python benchmarks/tracking.py` on {stamp}, {os.cpu_count()} cores. "
        "Smoke run = `flows/e2e.py --epochs 3 --synthetic-points 1200 --seed 42`, each in a "
        "fresh process. *track* = the run's track stage (MLflow run, params, metrics, "
        "artifacts, pyfunc model, registered version), from its success line.", "",
        "| store | smoke, tracking off (s) | smoke, new store (s) | track, new store (s) | "
        "track, warm store (s) | track / smoke (warm) | promote in the run (s) | "
        "`spline-lstm models promote` (s, whole command) |",
        "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['store']} | {r['off']:.1f} | {r['cold']:.1f} | {r['track_cold']:.2f} | "
            f"{r['track_warm']:.2f} | {100 * r['track_warm'] / r['off']:.1f} % | "
            f"{r['promote_in_run']:.2f} | {r['promote_command']:.1f} |")
    lines += ["", "Target: tracking < 5 % of a smoke run (warm store: a store is created once "
              "per artifacts dir or server).", ""]
    lines += [f"- {r['store']}: promotion verdict of the warm run: {r['promote_verdict']}"
              for r in rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/tracking.md",
                        help="Markdown file the tables are written to")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-tracking-") as tmp:
        tmp = Path(tmp)
        rows.append(measure("SQLite file (default)", tmp / "local", env))
        server_env = {**env, "SPLINE_MLFLOW_DIR": str(tmp / "server"),
                      "SPLINE_MLFLOW_PORT": str(_free_port())}
        started = time.perf_counter()
        up = subprocess.run([str(ROOT / "scripts/mlflow_server.sh"), "up"], env=server_env,
                            capture_output=True, text=True, timeout=600)
        if up.returncode != 0:
            raise SystemExit(up.stderr)
        print(f"mlflow server up in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        try:
            rows.append(measure("mlflow server (loopback)", tmp / "remote",
                                {**env, "MLFLOW_TRACKING_URI": up.stdout.strip()}))
        finally:
            subprocess.run([str(ROOT / "scripts/mlflow_server.sh"), "down"], env=server_env,
                           capture_output=True, timeout=120)
    text = render(rows)
    print(text)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Freezes of a SQLite-backed Prefect server: Prefect's app against ``flows.server_app``.

    .venv/bin/python benchmarks/server_freeze.py [--runs 90] [--busy-cores 2] [--out FILE]

For each app, a temporary server on a new SQLite file, and ``--runs`` many-series runs of
two series that both fail at ingest (their failure cards, states and logs reach the
server at once, the pattern that met the freeze), one after another in this process,
while ``--busy-cores`` processes spin beside them. A run that takes more than
``FROZEN_S`` counts as frozen: a run takes 2-5 s here, a freeze adds the 60 s of
Prefect's SQLite busy timeout (``flows/server_app.py`` explains it).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.cli import quiet_environment  # noqa: E402

quiet_environment()

from benchmarks.accuracy import interrupt_on_sigterm  # noqa: E402

APPS = {"Prefect's app (prefect.server.api.server:create_app)":
        "prefect.server.api.server:create_app",
        "flows.server_app (collection in its own thread)": "flows.server_app:create_app"}
FROZEN_S = 30.0
RUN_FLAGS = ["--stage-tags", "off", "--tracking", "off", "--max-workers", "2"]
SPIN = "while True: pass"  # one busy core


def _failing_fleet(folder: Path) -> Path:
    """Two series, each with an inf that fails it at ingest."""
    import pandas as pd

    rows = []
    for series in ("a", "b"):
        stamps = pd.date_range("2024-01-01", periods=240, freq="h")
        values = [math.sin(i / 6.0) for i in range(240)]
        values[50] = math.inf
        rows.append(pd.DataFrame({"series_id": series, "timestamp": stamps, "target": values}))
    path = folder / "fleet.csv"
    pd.concat(rows).to_csv(path, index=False)
    return path


def _run_seconds(factory: str, runs: int, folder: Path) -> list[float]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.early_start import TemporaryServer, send_queued_to_server
    from flows.many import main

    source = _failing_fleet(folder)
    server = TemporaryServer(factory=factory)
    database = folder / f"prefect-{len(list(folder.iterdir()))}.db"
    server.spawn({"PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{database}"})
    seconds = []
    try:
        server.wait_until_answering(120)
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            for i in range(runs):
                start = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()), \
                        contextlib.redirect_stderr(io.StringIO()):
                    code = main(["--run-id", f"freeze-{i}", "--input", str(source),
                                 "--artifacts-dir", str(folder / "artifacts"), *RUN_FLAGS])
                seconds.append(time.perf_counter() - start)
                assert code == 25, f"run {i} ended with {code}, not 25 (every series fails)"
                print(f"  run {i + 1}/{runs}: {seconds[-1]:.1f} s", file=sys.stderr, flush=True)
            send_queued_to_server()
    finally:
        server.stop()
    return seconds


def _one_app(factory: str, runs: int) -> None:
    """The runs against one app, in a process of their own (Prefect's client keeps the ids
    of the flows it registered: a second server in one process would not hold them)."""
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps(_run_seconds(factory, runs, Path(folder))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=90)
    parser.add_argument("--busy-cores", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/server_freeze.md"))
    parser.add_argument("--one-app", help=argparse.SUPPRESS)  # the child for one app
    args = parser.parse_args()
    interrupt_on_sigterm()  # a kill stops the servers and the spinners on the way out
    if args.one_app:
        _one_app(args.one_app, args.runs)
        return
    rows = []
    for label, factory in APPS.items():
        print(label, file=sys.stderr)
        spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(args.busy_cores)]
        try:
            done = subprocess.run([sys.executable, __file__, "--one-app", factory, "--runs",
                                   str(args.runs)], stdout=subprocess.PIPE, text=True,
                                  check=True)
        finally:
            for spinner in spinners:
                spinner.kill()
        seconds = json.loads(done.stdout.strip().splitlines()[-1])
        frozen = [s for s in seconds if s > FROZEN_S]
        rows.append(f"| {label} | {len(seconds)} | {len(frozen)} | "
                    f"{', '.join(f'{s:.0f}' for s in frozen) or '-'} | "
                    f"{statistics.median(seconds):.1f} | {sum(seconds):.0f} |")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    table = "\n".join([
        "# Prefect server freezes on SQLite", "",
        f"{stamp}, {os.cpu_count()} CPU cores; command: `python "
        f"benchmarks/server_freeze.py --runs {args.runs} --busy-cores {args.busy_cores}`.",
        "Each run: `flows/many.py` over two series that both fail at ingest, against a "
        "temporary server on a new SQLite file; frozen: over "
        f"{FROZEN_S:.0f} s.", "",
        "| app | runs | frozen | frozen runs, s | median run, s | total, s |",
        "|---|---|---|---|---|---|", *rows, ""])
    print(table)
    out = Path(args.out)
    findings = ""
    if out.exists() and "## Findings" in out.read_text():
        findings = "\n## Findings" + out.read_text().split("## Findings", 1)[1]
    out.write_text(table + findings)


if __name__ == "__main__":
    main()

"""Serving benchmark: latency and throughput of ``spline-lstm serve`` on loopback.

    .venv/bin/python benchmarks/serving.py [--seconds 30] [--out benchmarks/results/serving.md]

A tiny tracked run of a seeded hourly series (naive candidates, horizon 24) is registered
and made champion; a real server starts; then 1, 8 and 32 concurrent clients each post
``{"model", "horizon": 24}`` in a loop for ``--seconds``: p50 / p99 latency, requests per
second, errors; once without intervals (``"levels": []``), once with both levels (the
stored-series forecast and its bounds are computed when a version loads, so intervals cost
only their serialisation).
Last: the reload time — from a forced promotion of version 2 to the first response served
by it.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CONSOLE = ROOT / ".venv" / "bin" / "spline-lstm"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _registry(root: Path) -> Path:
    from flows.e2e import main
    from spline_lstm.tracking import registry, store
    from tests.helpers import make_series

    csv = root / "load.csv"
    make_series(n=720, seed=5).to_csv(csv, index=False)
    artifacts = root / "artifacts"
    for run_id in ("bench-1", "bench-2"):
        code = main(["--run-id", run_id, "--artifacts-dir", str(artifacts), "--input", str(csv),
                     "--horizon", "24", "--epochs", "2", "--candidates", "naive",
                     "--baselines", "simple", "--backtest-windows", "0", "--stage-tags", "off"])
        if code != 0:
            raise SystemExit(f"run {run_id} failed ({code})")
    registry.promote(store.connect(artifacts), "load", artifacts, version="1", force=True,
                     reason="serving benchmark")
    return artifacts


def _load(url: str, clients: int, seconds: float, body: dict) -> dict:
    import httpx

    latencies, errors, stop = [], [0], time.perf_counter() + seconds

    def client() -> None:
        with httpx.Client(timeout=30) as http:
            while time.perf_counter() < stop:
                start = time.perf_counter()
                response = http.post(f"{url}/api/v1/forecast", json=body)
                if response.status_code == 200:
                    latencies.append(time.perf_counter() - start)
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    n = len(latencies)
    return {"clients": clients, "requests": n, "errors": errors[0], "rps": n / seconds,
            "p50": 1000 * latencies[n // 2] if n else float("nan"),
            "p99": 1000 * latencies[min(n - 1, int(0.99 * n))] if n else float("nan")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="seconds each client load runs (default 30)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/serving.md",
                        help="Markdown file the tables are written to")
    args = parser.parse_args()
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    import httpx

    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        artifacts = _registry(Path(tmp))
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen([str(CONSOLE), "serve", "--port", str(port), "--artifacts-dir",
                                 str(artifacts)], env={**os.environ, "SPLINE_RELOAD_SECONDS": "1"},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 120
            while time.time() < deadline:
                try:
                    if httpx.get(f"{url}/api/v1/ready", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.3)
            rows = []
            for label, body in (("no intervals", {"model": "load", "horizon": 24,
                                                  "levels": []}),
                                ("both levels", {"model": "load", "horizon": 24})):
                for clients in (1, 8, 32):
                    row = _load(url, clients, args.seconds, body)
                    rows.append({"request": label, **row})
                    print(row, file=sys.stderr)
            from spline_lstm.tracking import registry, store

            start = time.perf_counter()
            registry.promote(store.connect(artifacts), "load", artifacts, version="2",
                             force=True, reason="reload timing")
            promoted = time.perf_counter()
            while httpx.post(f"{url}/api/v1/forecast",
                             json={"model": "load", "horizon": 1}).json()["version"] != "2":
                time.sleep(0.05)
            reload_s = time.perf_counter() - promoted
            promote_s = promoted - start
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    lines = ["# Serving benchmark", "",
             f"`.venv/bin/python benchmarks/serving.py --seconds {args.seconds:g}` on {stamp}, "
             f"{os.cpu_count()} cores; server and clients on the same machine (loopback), one "
             "uvicorn worker, `spline-lstm serve` defaults (development mode). Request: the "
             "champion's forecast of the stored series, horizon 24.", "",
             "| request | clients | requests | errors | req/s | p50 (ms) | p99 (ms) |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['request']} | {r['clients']} | {r['requests']} | {r['errors']} | "
                     f"{r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} |")
    lines += ["", f"Reload: the promotion took {promote_s:.2f} s; the new champion answered "
              f"{reload_s:.2f} s after it (alias checked every 1 s here, "
              "`SPLINE_RELOAD_SECONDS`; the load-verify-swap includes downloading and "
              "loading the version)."]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scale benchmark: long-series preprocessing, streaming training input, many series.

    .venv/bin/python benchmarks/scale.py [--sizes 1000000 10000000] [--sections all]
                                         [--series 40] [--pandas-timeout 300]
                                         [--out benchmarks/results/scale.md]

Sections (``--sections`` takes a comma list of them, or ``all``):

- preprocess: a seeded series with 5% of its points missing is written to Parquet, then
  the pipeline's own stages run on it (ingest Parquet → grid + spline fill → split, scale,
  window index and processed artifacts), followed by one full epoch of the training input
  pipeline at lookback 168. Each size runs in a fresh process, so its peak RSS is its own.
  The same file then goes through pandas ``interpolate(method="spline")`` for comparison.
- throughput: windows per second of one training epoch, for the same model and data, fed
  by the streaming input vs by ``model.fit`` on pre-materialised X/y arrays.
- many: the many-series flow over ``--series`` small series on the thread pool and on a
  local 2-worker Dask cluster, with each series' own compute time, so the orchestration
  overhead per series shows.
- servers: the many-series flow on a running Prefect server backed by SQLite and by
  PostgreSQL, stage tags off and on (not in ``all``: it needs Debian's postgresql).

Prints one Markdown table per section and writes them all to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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

LOOKBACK = 168
BATCH = 64
GAP_FRACTION = 0.05


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# --------------------------------------------------------------------------- children


def child_make_parquet(points: int, path: str) -> dict:
    from spline_lstm.data.synthetic import synthetic_series

    frame = synthetic_series(points, seed=0, gap_fraction=GAP_FRACTION).frame
    frame.to_parquet(path, index=False)
    return {"rows": len(frame), "missing_values": int(frame["target"].isna().sum())}


def child_preprocess(points: int, path: str, workdir: str) -> dict:
    """The pipeline's stages on a Parquet file, timed one by one, then one input epoch."""
    from contracts.artifacts import ArtifactLayout
    from contracts.config import RunConfig
    from contracts.records import DataSummary
    from spline_lstm.transforms.chain import TransformSpec
    from tasks.ingest import ingest
    from tasks.interpolate import interpolate_spline
    from tasks.preprocess import scale_and_window

    config = RunConfig(run_id="scale", lookback=LOOKBACK, horizon=1, batch_size=BATCH,
                       artifacts_dir=workdir)
    times = {}
    start = time.perf_counter()
    ingested = ingest.fn(path, "timestamp", "target", 10, 0)
    times["ingest_s"] = time.perf_counter() - start
    mark = time.perf_counter()
    filled = interpolate_spline.fn(ingested, None, None, None, "auto")
    times["fill_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    layout = ArtifactLayout(Path(workdir), "scale")
    data = scale_and_window.fn(filled, config, layout,
                               DataSummary(source=path, n_rows=points), TransformSpec())
    times["scale_window_s"] = time.perf_counter() - mark
    times["preprocess_s"] = time.perf_counter() - start
    rss_preprocess = peak_rss_mb()
    del ingested, filled

    import tensorflow as tf  # noqa: F401 - imported here so its start-up is not timed above

    mark = time.perf_counter()
    windows = 0
    for X, _y in data.dataset("train", BATCH, shuffle=True, seed=0):
        windows += int(X.shape[0])
    times["input_epoch_s"] = time.perf_counter() - mark
    return {"points": points, "grid_points": len(data.values),
            "filled": int((~data.observed).sum()), "train_windows": windows,
            "materialised_gb": round(sum(len(o) for o in data.origins.values())
                                     * (LOOKBACK + 1) * 4 / 1e9, 2),
            **{k: round(v, 2) for k, v in times.items()},
            "rss_preprocess_mb": round(rss_preprocess), "rss_peak_mb": round(peak_rss_mb())}


def child_pandas(points: int, path: str) -> dict:
    """The same fill with pandas' spline interpolation (scipy UnivariateSpline, order 3)."""
    import pandas as pd

    from spline_lstm.data.synthetic import HOURLY_SYNTHETIC_LIMIT

    freq = "h" if points <= HOURLY_SYNTHETIC_LIMIT else "min"  # as synthetic_series makes it
    start = time.perf_counter()
    frame = pd.read_parquet(path)
    series = frame.set_index("timestamp")["target"].asfreq(freq)
    filled = series.interpolate(method="spline", order=3)
    seconds = time.perf_counter() - start
    return {"points": points, "filled": int(series.isna().sum() - filled.isna().sum()),
            "seconds": round(seconds, 2), "rss_peak_mb": round(peak_rss_mb())}


def child_throughput(points: int, workdir: str, epochs: int) -> dict:
    """Windows per second of one epoch (median) for streaming vs materialised input."""
    import numpy as np

    from contracts.config import RunConfig
    from contracts.records import DataSummary
    from spline_lstm.data.frequency import parse_freq
    from spline_lstm.data.interpolate import interpolate_series
    from spline_lstm.data.synthetic import synthetic_series
    from spline_lstm.models.network import build_model
    from spline_lstm.models.recurrent import RecurrentSettings
    from spline_lstm.models.training import make_deterministic
    from spline_lstm.windows.preprocess import PreprocessSettings, preprocess

    raw = synthetic_series(points, seed=0).frame
    filled = interpolate_series(raw, parse_freq("h"), [24, 168], max_gap=len(raw),
                                fill_method="auto")
    settings = PreprocessSettings(lookback=LOOKBACK, horizon=1, seasons=[24, 168],
                                  val_size=0.1, test_size=0.2)
    data = preprocess(filled, settings, run_id="throughput",
                      data_summary=DataSummary(source="synthetic", n_rows=len(raw)))
    config = RunConfig(run_id="throughput", lookback=LOOKBACK, batch_size=BATCH)
    n_windows = len(data.origins["train"])

    # Both models are built first, then trained one epoch at a time in turns (after a
    # warm-up epoch each), so drift in machine load hits both inputs alike.
    models, inputs = {}, {}
    for mode in ("materialised", "streaming"):
        make_deterministic(0)
        models[mode] = build_model(RecurrentSettings.from_config(config).spec_for(data))
    X, y = data.windows("train")
    inputs["materialised"] = {"x": X, "y": y, "batch_size": BATCH, "shuffle": True}
    inputs["streaming"] = {"x": data.dataset("train", BATCH, shuffle=True, seed=0)}
    seconds = {mode: [] for mode in models}
    for round_ in range(epochs + 1):
        for mode, model in models.items():
            start = time.perf_counter()
            model.fit(**inputs[mode], epochs=1, verbose=0)
            if round_:  # round 0 traces the graphs
                seconds[mode].append(time.perf_counter() - start)
    rates = {mode: n_windows / float(np.median(s)) for mode, s in seconds.items()}
    return {"points": points, "train_windows": n_windows, "epochs_timed": epochs,
            "materialised_wps": round(rates["materialised"]),
            "streaming_wps": round(rates["streaming"]),
            "ratio": round(rates["streaming"] / rates["materialised"], 3)}


def child_many(*args) -> dict:
    from benchmarks.many_series import child_many as run_pass

    return run_pass(*args)


def child_many_server(*args) -> dict:
    from benchmarks.many_series import child_many_on_server

    return child_many_on_server(*args)


CHILDREN = {"make-parquet": child_make_parquet, "preprocess": child_preprocess,
            "pandas": child_pandas, "throughput": child_throughput, "many": child_many,
            "many-server": child_many_server}


def run_child(name: str, *args, timeout: float | None = None) -> dict:
    """Run one measurement in a fresh interpreter; returns its JSON or the failure."""
    command = [sys.executable, __file__, "--child", name, "--", *[str(a) for a in args]]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {timeout:.0f} s"}
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": f"exit {done.returncode}: {tail[:200]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- sections


def section_preprocess(sizes: list[int], pandas_timeout: float) -> str:
    rows = ["| points | grid points | filled | ingest s | fill s | scale+window s | "
            "preprocess s | input epoch s (train windows) | would-be window copies GB | "
            "peak RSS after preprocess MB | peak RSS incl. epoch MB | pandas spline s | "
            "pandas peak RSS MB |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        for points in sizes:
            parquet = Path(tmp) / f"series-{points}.parquet"
            made = run_child("make-parquet", points, parquet)
            if "error" in made:
                rows.append(f"| {points:,} | making the input failed: {made['error']} |")
                continue
            ours = run_child("preprocess", points, parquet, Path(tmp) / f"artifacts-{points}")
            theirs = run_child("pandas", points, parquet, timeout=pandas_timeout)
            print(f"  {points:,} points: pipeline {ours}\n  pandas {theirs}", flush=True)
            if "error" in ours:
                rows.append(f"| {points:,} | pipeline failed: {ours['error']} |")
                continue
            pandas_s = theirs.get("seconds", theirs.get("error"))
            rows.append(
                f"| {points:,} | {ours['grid_points']:,} | {ours['filled']:,} | "
                f"{ours['ingest_s']} | {ours['fill_s']} | {ours['scale_window_s']} | "
                f"**{ours['preprocess_s']}** | {ours['input_epoch_s']} "
                f"({ours['train_windows']:,}) | {ours['materialised_gb']} | "
                f"{ours['rss_preprocess_mb']:,} | **{ours['rss_peak_mb']:,}** | {pandas_s} | "
                f"{theirs.get('rss_peak_mb', '-')} |")
    return "\n".join(rows)


def section_throughput(points: int, epochs: int) -> str:
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        result = run_child("throughput", points, tmp, epochs)
    print(f"  throughput: {result}", flush=True)
    if "error" in result:
        return f"throughput measurement failed: {result['error']}"
    return "\n".join([
        "| points | train windows | materialised X/y windows/s | streaming windows/s | "
        "streaming / materialised |",
        "|---|---|---|---|---|",
        f"| {result['points']:,} | {result['train_windows']:,} | "
        f"{result['materialised_wps']:,} | {result['streaming_wps']:,} | "
        f"**{result['ratio']}** |"])


def section_many(n_series: int) -> str:
    from benchmarks.many_series import measure_many

    return measure_many(n_series, run_child)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("child_args", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+",
                        default=[100_000, 1_000_000, 10_000_000],
                        help="Series lengths for the preprocess section.")
    parser.add_argument("--sections", default="all",
                        help="Comma list of preprocess, throughput, many, servers "
                             "(default all: the first three).")
    parser.add_argument("--throughput-points", type=int, default=200_000,
                        help="Series length for the throughput section.")
    parser.add_argument("--epochs", type=int, default=4,
                        help="Timed epochs per input in the throughput section (after one "
                             "warm-up epoch each; the median counts).")
    parser.add_argument("--series", type=int, default=40,
                        help="Number of small series for the many section.")
    parser.add_argument("--pandas-timeout", type=float, default=300,
                        help="Seconds pandas' spline interpolation may take per size.")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/scale.md"),
                        help="Markdown file the tables are written to.")
    args = parser.parse_args(argv)
    if args.child:
        converted = [int(a) if a.isdigit() else a for a in args.child_args]
        print(json.dumps(CHILDREN[args.child](*converted)))
        return 0
    chosen = {"preprocess", "throughput", "many"} if args.sections == "all" \
        else set(args.sections.split(","))
    stamp = (f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} "
             f"CPU cores: `python benchmarks/scale.py {' '.join(argv or sys.argv[1:])}`.")
    produced = {}
    if "preprocess" in chosen:
        print("preprocess ...", flush=True)
        produced[PREPROCESS_TITLE] = (
            f"{stamp}\n\nLookback {LOOKBACK}, batch {BATCH}, {GAP_FRACTION:.0%} of points "
            "missing.\n\n" + section_preprocess(args.sizes, args.pandas_timeout))
    if "throughput" in chosen:
        print("throughput ...", flush=True)
        produced[THROUGHPUT_TITLE] = f"{stamp}\n\n" + section_throughput(
            args.throughput_points, args.epochs)
    if "many" in chosen:
        print("many series ...", flush=True)
        produced[MANY_TITLE] = f"{stamp}\n\n" + section_many(args.series)
    if "servers" in chosen:
        from benchmarks.many_series import measure_servers

        print("many series on running servers ...", flush=True)
        produced[SERVERS_TITLE] = f"{stamp}\n\n" + measure_servers(run_child)
    out = Path(args.out)
    # Sections not measured this time keep their earlier results (each names its command).
    sections = read_sections(out) if out.exists() else {}
    sections.update(produced)
    report = "# Scale benchmark\n\n" + "\n\n".join(
        f"## {title}\n\n{sections[title].strip()}" for title in SECTION_ORDER
        if title in sections) + "\n"
    print(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    return 0


PREPROCESS_TITLE = "Long series: preprocessing and one epoch of training input"
THROUGHPUT_TITLE = "Training throughput: streaming input vs materialised arrays"
MANY_TITLE = "Many series: thread pool vs 2-worker Dask"
SERVERS_TITLE = "Many series on a running server: SQLite vs PostgreSQL, stage tags off and on"
SECTION_ORDER = (PREPROCESS_TITLE, THROUGHPUT_TITLE, MANY_TITLE, SERVERS_TITLE)


def read_sections(path: Path) -> dict[str, str]:
    """The '## title' sections of an earlier report, title -> body."""
    sections, title = {}, None
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            title = line[3:].strip()
            sections[title] = ""
        elif title is not None:
            sections[title] += line + "\n"
    return sections


if __name__ == "__main__":
    sys.exit(main())

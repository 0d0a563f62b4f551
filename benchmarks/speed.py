"""Speed benchmark: where a run's time goes, and what each fixed cost is.

    .venv/bin/python benchmarks/speed.py [--ref COMMIT] [--suite]
                                         [--out benchmarks/results/speed.md]

- Runs, each in a fresh process as a user runs them: the smoke (``--epochs 3
  --synthetic-points 1200``, to the success line), e2e on co2 H=52 and air passengers H=12
  with default settings. For each: the wall time, the time before the first task (imports
  and Prefect's temporary server) and the seconds of every stage, read from when each
  task's "Finished" line reached the console.
- ``--ref COMMIT``: the same runs from a git worktree of COMMIT with this virtualenv,
  side by side (ratio now / reference).
- Per trained model, in a fresh process on the smoke shape: the fixed cost (build, input
  set-up, first-epoch trace, checkpoints, reload) of a first and of a second model of the
  same shape, and the training throughput in windows per second.
- ``--suite``: the wall time of ``scripts/test.sh`` and ``scripts/test.sh -m "not server"``.
- ``--deployments``: the smoke and retrain deployments run twice each through a worker of
  ``scripts/local_stack.sh`` (benchmarks/deployment_runs.py), and from ``--ref``'s tree too.

The many-series overhead per series is measured by ``benchmarks/scale.py --sections many``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.deployment_runs import time_deployments  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
DATA = ROOT.parent / "shared" / "data"
# a task run is named after its task plus three hex digits, or by the flow (backtest-window-2)
FINISHED = re.compile(r"Task run '(?P<task>.+?)(?:-[0-9a-f]{3})?' - Finished in state (?P<state>\w+)")
WINDOW = re.compile(r"^backtest-window-\d+$")
CASES = {
    "smoke": ["--epochs", "3", "--seed", "42", "--synthetic-points", "1200"],
    "co2 H=52": ["--input", str(DATA / "co2_weekly.csv"), "--horizon", "52"],
    "air H=12": ["--input", str(DATA / "airpassengers_monthly.csv"), "--horizon", "12"],
}


def stage_seconds(lines: list[tuple[float, str]], exited: float) -> dict[str, float]:
    """Seconds per stage from (arrival seconds, console line) pairs of one run.

    'before first task' ends at the flow's "Beginning flow run" line; each stage ends at
    its task's Finished line and began where the previous one ended; 'commit and exit'
    runs from the last task to the end of the process. Stages that repeat (the backtest
    windows, side by side) add up to their span.
    """
    stages: dict[str, float] = {}
    mark = None
    for arrived, line in lines:
        if mark is None and "Beginning flow run" in line:
            stages["before first task"] = arrived
            mark = arrived
        elif mark is not None and (found := FINISHED.search(line)):
            task = "backtest" if WINDOW.match(found["task"]) else found["task"]
            stages[task] = stages.get(task, 0.0) + arrived - mark
            mark = arrived
    if mark is not None:
        stages["commit and exit"] = exited - mark
    return stages


def time_run(cwd: Path, run_id: str, flags: list[str], artifacts: Path) -> dict:
    """Run e2e in a fresh process from ``cwd``; wall seconds and stage seconds."""
    command = [str(PYTHON), "flows/e2e.py", "--run-id", run_id, "--artifacts-dir",
               str(artifacts), *flags]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    lines: list[tuple[float, str]] = []

    def read() -> None:  # note when each line arrives: Prefect's console log
        for line in process.stderr:
            lines.append((time.perf_counter() - start, line))

    reader = threading.Thread(target=read)
    reader.start()
    code = process.wait()
    wall = time.perf_counter() - start
    reader.join()
    if code != 0:
        last = "".join(text for _, text in lines[-5:])
        raise SystemExit(f"{run_id} in {cwd} exited {code}: {last}")
    return {"wall": wall, "stages": stage_seconds(lines, wall)}


def child_fixed_cost() -> dict:
    """Fit models of the smoke shape in turn: 1 epoch, 1 epoch again, 4 epochs, then
    1 epoch on a shorter series (other window counts and batch size, same network).

    per epoch = (t_4 - t_second) / 3; fixed cost = t_1 - per epoch (first model),
    t_second - per epoch (a second model of the same shape) and t_other - per epoch scaled
    to its windows (a model of the same network shape on other data).
    """
    from flows.cli import quiet_environment

    quiet_environment()
    from contracts.records import DataSummary
    from spline_lstm.data.frequency import parse_freq
    from spline_lstm.data.interpolate import interpolate_series
    from spline_lstm.data.synthetic import synthetic_series
    from spline_lstm.models.recurrent import RecurrentForecaster, RecurrentSettings
    from spline_lstm.windows.preprocess import PreprocessSettings, preprocess
    from spline_lstm.windows.split import choose_lookback

    raw = synthetic_series(1200, seed=42).frame
    lookback = choose_lookback([24, 168], 1, int(len(raw) * 0.7))

    def windows(points: int):
        filled = interpolate_series(raw.iloc[:points], parse_freq("h"), [24, 168],
                                    max_gap=points, fill_method="auto")
        return preprocess(filled, PreprocessSettings(
            lookback=lookback, horizon=1, seasons=[24, 168], val_size=0.1, test_size=0.2),
            run_id="speed", data_summary=DataSummary(source="synthetic", n_rows=points))

    data, shorter = windows(len(raw)), windows(900)
    # TensorFlow's import (~2 s) is a cost of the process, measured with the start-up, not
    # of a model: the first fit would otherwise pay it (the windows import it lazily).
    import keras  # noqa: F401
    import tensorflow  # noqa: F401

    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for number, (epochs, fitted) in enumerate(((1, data), (1, data), (4, data),
                                                   (1, shorter))):
            settings = RecurrentSettings(epochs=epochs, patience=100)
            start = time.perf_counter()
            RecurrentForecaster(settings, workdir=Path(tmp) / str(number)).fit(fitted)
            seconds.append(time.perf_counter() - start)
    per_epoch = (seconds[2] - seconds[1]) / 3
    n_train, n_other = len(data.origins["train"]), len(shorter.origins["train"])
    return {"lookback": lookback, "train_windows": n_train, "per_epoch": per_epoch,
            "fixed_first": seconds[0] - per_epoch, "fixed_second": seconds[1] - per_epoch,
            "fixed_other": seconds[3] - per_epoch * n_other / n_train,
            "other_windows": n_other, "other_batch": RecurrentSettings().batch_size_for(shorter),
            "batch": RecurrentSettings().batch_size_for(data),
            "windows_per_s": n_train / per_epoch}


def time_suite(*marker: str) -> float:
    start = time.perf_counter()
    subprocess.run(["scripts/test.sh", "-q", "-p", "no:cacheprovider", *marker], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def warm_up() -> None:
    """One untimed smoke run from this tree before anything is timed.

    The first command after a pause runs 10-25 % slower in every stage (three smoke runs
    in a row took 18.6 / 16.2 / 16.2 s, the same code), and the reference's runs always
    follow this tree's: without a warm-up only this tree's first case paid for it.
    """
    with tempfile.TemporaryDirectory() as tmp:
        wall = time_run(ROOT, "speed-warm-up", CASES["smoke"], Path(tmp) / "artifacts")["wall"]
    print(f"warm-up (smoke, not timed): {wall:.1f} s", file=sys.stderr, flush=True)


def measure_runs(cwd: Path, label: str) -> dict[str, dict]:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case, flags in CASES.items():
            run_id = f"speed-{label}-{case.split()[0]}"
            results[case] = time_run(cwd, run_id, flags, Path(tmp) / "artifacts")
            print(f"{label} {case}: {results[case]['wall']:.1f} s", file=sys.stderr, flush=True)
    return results


def reference_runs(commit: str, deployments: bool = False) -> tuple[dict, dict | None]:
    """The same runs (and deployment runs) from a worktree of ``commit`` (this
    virtualenv), removed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "ref"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT,
                       check=True, capture_output=True)
        (tree / ".venv").symlink_to(ROOT / ".venv")  # local_stack.sh runs the tree's .venv
        stamp = _bootstrap_stamp(tree)
        made = not stamp.exists()
        stamp.touch()  # so the tree's bootstrap does not reinstall this virtualenv for it
        try:
            return measure_runs(tree, "ref"), time_deployments(tree) if deployments else None
        finally:
            if made and stamp != _bootstrap_stamp(ROOT):
                stamp.unlink(missing_ok=True)
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                           check=False, capture_output=True)


def _bootstrap_stamp(tree: Path) -> Path:
    """The file by which ``tree``'s scripts/bootstrap.sh knows the virtualenv is installed
    for its pyproject.toml and constraints.txt (local_stack.sh runs the bootstrap; for a
    reference tree it would reinstall this virtualenv, editable, from that tree)."""
    text = (tree / "pyproject.toml").read_bytes() + (tree / "constraints.txt").read_bytes()
    return ROOT / ".venv" / f".installed-{hashlib.sha256(text).hexdigest()[:16]}"


def _ratio(now: float, ref: float | None) -> str:
    return f"{now / ref:.2f}" if ref else "–"


def render_deployments(now: dict, ref: dict | None, commit: str | None) -> str:
    head = "| deployment run, through a worker | seconds" + (
        f" | seconds at {commit[:7]} | ratio of the means |" if ref else " |")
    rows = [head, "|---" * (head.count("|") - 1) + "|"]
    for name, seconds in now.items():
        row = f"| `{name}` | " + " / ".join(f"{s:.1f}" for s in seconds) + " |"
        if ref:
            then = ref.get(name, [])
            row += " " + " / ".join(f"{s:.1f}" for s in then) + " | " + _ratio(
                sum(seconds) / len(seconds), sum(then) / len(then) if then else None) + " |"
        rows.append(row)
    return "\n".join(rows)


def render(now: dict, ref: dict | None, commit: str | None, fixed: dict,
           suite: dict | None) -> str:
    ref = ref or {}
    head = "| run | wall s | before first task s |" + (
        f" wall s at {commit[:7]} | ratio |" if ref else "")
    rows = [head, "|---" * (head.count("|") - 1) + "|"]
    for case, result in now.items():
        before = result["stages"].get("before first task", 0.0)
        row = f"| {case} | {result['wall']:.1f} | {before:.1f} |"
        if ref:
            row += f" {ref[case]['wall']:.1f} | {_ratio(result['wall'], ref[case]['wall'])} |"
        rows.append(row)
    stages = list(dict.fromkeys(s for r in (*now.values(), *ref.values()) for s in r["stages"]))
    columns = [(case, now[case]) for case in now] + [(f"{case} at {commit[:7]}", ref[case])
                                                     for case in ref]
    table = ["| stage (s) | " + " | ".join(name for name, _ in columns) + " |",
             "|---" * (len(columns) + 1) + "|"]
    for stage in stages:
        table.append(f"| {stage} | " + " | ".join(
            f"{result['stages'][stage]:.1f}" if stage in result["stages"] else "–"
            for _, result in columns) + " |")
    model = ["| per trained model (smoke shape, lookback "
             f"{fixed['lookback']}, {fixed['train_windows']} train windows) | seconds |",
             "|---|---|",
             f"| fixed cost, first model | {fixed['fixed_first']:.2f} |",
             f"| fixed cost, a second model of the same shape | {fixed['fixed_second']:.2f} |",
             f"| fixed cost, a second model of the same network on other data "
             f"({fixed['other_windows']} train windows, batch {fixed['other_batch']} against "
             f"{fixed['batch']}) | {fixed.get('fixed_other', float('nan')):.2f} |",
             f"| one epoch | {fixed['per_epoch']:.2f} |",
             f"| throughput | {fixed['windows_per_s']:.0f} windows/s |"]
    parts = ["\n".join(rows), "\n".join(table), "\n".join(model)]
    if suite:
        parts.append("| test suite | wall s |\n|---|---|\n" + "\n".join(
            f"| `scripts/test.sh{' ' + k if k else ''}` | {v:.0f} |" for k, v in suite.items()))
    return "\n\n".join(parts)


def kept_findings(path: Path) -> str:
    """The hand-written '## Findings' section of an earlier result file, kept on re-runs."""
    if not path.exists():
        return ""
    text = path.read_text()
    return text[text.index("## Findings"):].strip() if "## Findings" in text else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ref", help="A commit to measure side by side (a git worktree).")
    parser.add_argument("--suite", action="store_true",
                        help="Also time the test suite, with and without -m 'not server'.")
    parser.add_argument("--deployments", action="store_true",
                        help="Also time the smoke and retrain deployments through a worker "
                        "(scripts/local_stack.sh; with --ref, from its tree too).")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/speed.md"),
                        help="Markdown file the tables are written to.")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child_fixed_cost()))
        return 0
    warm_up()
    now = measure_runs(ROOT, "now")
    deployed = time_deployments(ROOT) if args.deployments else None
    ref, ref_deployed = reference_runs(args.ref, args.deployments) if args.ref else (None, None)
    child = subprocess.run([str(PYTHON), __file__, "--child"], check=True, text=True,
                           capture_output=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    fixed = json.loads(child.stdout.strip().splitlines()[-1])
    suite = {"": time_suite(), '-m "not server"': time_suite("-m", "not server")} \
        if args.suite else None
    out = Path(args.out)
    report = (f"# Speed benchmark\n\n{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
              f"{os.cpu_count()} CPU cores; command: `python benchmarks/speed.py "
              f"{' '.join(argv if argv is not None else sys.argv[1:])}`. Each run is a fresh "
              "process, after one untimed smoke run (the first command after a pause is "
              "slower); stage seconds are read from when each task's Finished line reached "
              "the console.\n\n" + render(now, ref, args.ref, fixed, suite) + "\n")
    if deployed:
        report += "\n" + render_deployments(deployed, ref_deployed, args.ref) + "\n"
    findings = kept_findings(out)
    report += f"\n{findings}\n" if findings else ""
    print(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

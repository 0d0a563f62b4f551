"""Interval benchmark: calibrated intervals of the pipeline vs the classical models' own.

    .venv/bin/python benchmarks/intervals.py [--data-dir ../shared/data | --heldout |
                                              --more-series] [--cost-windows K]
                                             [--out FILE]

For each series and horizon of ``benchmarks/accuracy.py`` runs the real ``e2e`` flow
twice: with default settings (the automatic rolling-origin backtests, on which the
forecast is chosen and its intervals calibrated) and with ``--backtest-windows 0`` (chosen
and calibrated on the validation split), and prints, on the test split at 80 % and 95 %:
coverage, mean width and interval (Winkler) score of the run's forecast (adaptive
conformal, the default; and the static calibration alone), and of the native intervals
of the best classical model (lowest test MASE); then the wall-time cost of the backtests
(with ``--cost-windows K`` also of exactly K windows: a third run per case) and the checks
of the issue's targets: coverage within 5 points of the level, mean interval score ratio
pipeline / best classical. Each coverage comes with the target times it rests on and a
binomial test against its level, and the summary says how many case-levels exactly
calibrated intervals would have within 5 points by chance
(``benchmarks/coverage_sampling.py``): on short test splits that is far from all.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.cli import quiet_environment  # noqa: E402

quiet_environment()

from benchmarks.accuracy import (  # noqa: E402
    _cases,
    add_series_arguments,
    best_classical,
    data_dir_flag,
    interrupt_on_sigterm,
    series_folder,
    warm_up,
)
from benchmarks.coverage_sampling import (  # noqa: E402
    coverage_p_value,
    target_times,
)
from benchmarks.coverage_sampling import summary as coverage_summary  # noqa: E402

LEVELS = ("80", "95")


def run(path: Path, horizon: int, artifacts: Path, windows: int | None
        ) -> tuple[dict, float]:
    from flows.e2e import e2e_flow

    run_id = f"{path.stem}-h{horizon}-k{'auto' if windows is None else windows}"
    start = time.perf_counter()
    state = e2e_flow(run_id=run_id, input=str(path), horizon=horizon, stage_tags="off",
                     artifacts_dir=str(artifacts), backtest_windows=windows,
                     return_state=True)
    if not state.is_completed():
        raise SystemExit(f"{run_id} failed: {state.message}")
    seconds = time.perf_counter() - start
    return json.loads((artifacts / "metrics" / f"{run_id}.json").read_text()), seconds


def _num(value, spec: str = ".4g") -> str:
    """A figure of the table; n/a where the metrics hold none (a width that was not finite
    is written as null)."""
    return "n/a" if value is None else format(value, spec)


def case_rows(name: str, horizon: int, plain: dict, other: dict) -> tuple[list[str], dict]:
    best = best_classical(plain["baselines"])
    native = plain["intervals"]["baselines"].get(best, {})
    rows, checks = [], {"within": {}, "ratio": [], "sampled": []}
    for level in LEVELS:
        p, s = plain["intervals"]["pipeline"][level], plain["intervals"]["pipeline_static"][level]
        b, n = other["intervals"]["pipeline"][level], native.get(level, {})
        times = target_times(int(p.get("n", 0)), horizon)
        chance = coverage_p_value(p["coverage"], float(level), times)
        rows.append(f"| {name} | {horizon} | {level} | **{_num(p['coverage'], '.1f')}** | "
                    f"{times} | {chance:.2g} | "
                    f"{_num(p['mean_width'])} | {_num(p['interval_score'])} | "
                    f"{_num(s['coverage'], '.1f')} | "
                    f"{_num(b['coverage'], '.1f')} | {_num(b['interval_score'])} | {best} | "
                    f"{_num(n.get('coverage'), '.1f')} | {_num(n.get('interval_score'))} |")
        checks["within"][level] = abs(p["coverage"] - float(level)) <= 5
        checks["sampled"].append((name, horizon, level, p["coverage"], times))
        if n.get("interval_score"):  # a band that was not finite scores null: infinitely worse
            checks["ratio"].append(float("inf") if p["interval_score"] is None
                                   else p["interval_score"] / n["interval_score"])
    return rows, checks


def main() -> int:
    interrupt_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_series_arguments(parser)
    parser.add_argument("--out", type=Path, help="also write the Markdown result here")
    parser.add_argument("--cost-windows", type=int, metavar="K",
                        help="also time each case with exactly K backtest windows (a third "
                             "run; its intervals are not scored)")
    args = parser.parse_args()
    if args.cost_windows is not None and args.cost_windows < 1:
        parser.error("--cost-windows must be at least 1")
    rows, checks, costs = [], [], []
    with tempfile.TemporaryDirectory(prefix="intervals-") as tmp:
        args.data_dir = series_folder(args, Path(tmp))
        warm_up()
        for name, path, horizon in _cases(args.data_dir):
            plain, plain_s = run(path, horizon, Path(tmp), None)
            unbacktested, unbacktested_s = run(path, horizon, Path(tmp), 0)
            case, check = case_rows(name, horizon, plain, unbacktested)
            rows += case
            checks.append((name, horizon, check))
            fixed = fixed_cost(path, horizon, Path(tmp), args.cost_windows, unbacktested_s)
            costs.append(f"| {name} | {horizon} | "
                         f"{plain['model_choice'].get('chosen')} | "
                         f"{len(plain['model_choice'].get('chosen_on', []))} | "
                         f"{unbacktested_s:.0f} | {plain_s:.0f} | "
                         f"{plain_s / unbacktested_s:.2f} |{fixed}")
            print(f"{name} H={horizon}: {check}", file=sys.stderr, flush=True)
    text = render(rows, checks, costs, args)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


def fixed_cost(path: Path, horizon: int, artifacts: Path, windows: int | None,
               unbacktested_s: float) -> str:
    """The cost table's cells for exactly ``windows`` backtest windows: seconds and the
    ratio to K=0, or why there are none (a series too short for K windows exits 26)."""
    if windows is None:
        return ""
    try:
        _, seconds = run(path, horizon, artifacts, windows)
    except SystemExit as failed:
        print(f"{path.stem} H={horizon} K={windows}: {failed}", file=sys.stderr, flush=True)
        return " does not fit | n/a |"
    return f" {seconds:.0f} | {seconds / unbacktested_s:.2f} |"


def render(rows: list[str], checks: list, costs: list[str], args) -> str:
    within = {level: sum(c["within"][level] for _, _, c in checks) for level in LEVELS}
    ratios = [r for _, _, c in checks for r in c["ratio"]]
    head = ["# Interval benchmark", "",
            f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
            f"{os.cpu_count()} CPU cores; command: `python benchmarks/intervals.py"
            f"{' --heldout' if args.heldout else ''}"
            f"{' --more-series' if args.more_series else ''}"
            f"{data_dir_flag(args)}"
            f"{f' --cost-windows {args.cost_windows}' if args.cost_windows else ''}`. "
            "Test split, original units, observed targets only. Pipeline: the run's "
            "forecast (chosen across families on the automatic backtests), adaptive "
            "conformal (default) calibrated on its backtest errors; static: the same "
            "calibration without the adaptive correction; K=0: chosen and calibrated on "
            "the validation split alone (`--backtest-windows 0`). Classical: the native "
            "intervals of the classical model with the lowest test MASE.", "",
            "Target times: how many the coverage rests on (an H-step case's overlapping "
            "forecasts share them); p: two-sided binomial test of the coverage against the "
            "level on that many (small: off by more than chance; `benchmarks/"
            "coverage_sampling.py`).", "",
            "| series | H | level | coverage % | target times | p | width | interval score | "
            "static coverage % | K=0 coverage % | K=0 interval score | best classical | its "
            "coverage % | its interval score |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    summary = ["", f"Coverage within 5 points of the level: {within['80']} of {len(checks)} "
               f"cases at 80 %, {within['95']} of {len(checks)} at 95 %. Mean interval score "
               f"pipeline / best classical: **{sum(ratios) / len(ratios):.3f}** (over "
               f"{len(ratios)} case-levels).", "",
               coverage_summary([case for _, _, c in checks for case in c["sampled"]]), "",
               cost_header(args.cost_windows), *costs]
    return "\n".join(head + rows + summary) + "\n"


def cost_header(windows: int | None) -> str:
    """The wall-time table's header: K=0 against the default, and against exactly K
    windows where ``--cost-windows`` asked for them."""
    names = ["series", "H", "forecast (default)", "backtest windows", "wall s, K=0",
             "wall s, default", "ratio"]
    if windows is not None:
        names += [f"wall s, K={windows}", "ratio"]
    return "| " + " | ".join(names) + " |\n" + "|---" * len(names) + "|"


if __name__ == "__main__":
    sys.exit(main())

"""Replay of the adaptive interval walk: how its step rule does on recorded test splits.

    .venv/bin/python benchmarks/interval_walk.py record DIR [--data-dir D | --heldout |
                                                             --more-series]
    .venv/bin/python benchmarks/interval_walk.py replay DIR [DIR ...] [--out FILE]

The adaptive intervals (``ConformalCalibrator.adapt``) walk through the test split's
forecasts in time order; how far each outcome moves a level's working miscoverage is a
choice made across series. Trying a choice on the interval benchmarks means running every
case again (an hour), though nothing before the walk depends on it. ``record`` runs the
real ``e2e`` flow on each series and horizon of ``benchmarks/intervals.py`` (default
settings, so the same runs as its main columns) and keeps what the walk was given: the
calibration scores, the test forecasts, targets and origins, and the best classical
model's native interval scores. ``replay`` walks those recordings again under each step
rule of ``RULES``, in seconds, and prints per rule and recorded set the issue's figures:
case-levels with coverage within 5 points of the level, and the mean interval score over
the best classical model's. Where the run calibrated on its blocks (a classical or
combined forecast), the recording also keeps the blocks' forecasts, and the replay
calibrates them again in each space of ``SPACES`` (``error_growth.blocks_power``) before
it walks.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.cli import quiet_environment  # noqa: E402

quiet_environment()

from benchmarks.accuracy import (  # noqa: E402
    _cases,
    add_series_arguments,
    best_classical,
    interrupt_on_sigterm,
    series_folder,
)
from spline_lstm.evaluation import intervals as intervals_module  # noqa: E402
from spline_lstm.evaluation.error_growth import PRIOR_SD  # noqa: E402
from spline_lstm.evaluation.intervals import (  # noqa: E402
    calibrate_on_blocks,
    intervals_report,
)
from spline_lstm.models.conformal import (  # noqa: E402
    ONLINE_RATE,
    ConformalCalibrator,
    WalkRule,
)
from spline_lstm.transforms.power import PowerTransform  # noqa: E402

LEVELS = ("80", "95")


@contextmanager
def captured_walks():
    """Every ``adapt`` call of the block, its calibrator and arguments, in a list."""
    calls, original = [], ConformalCalibrator.adapt

    def recording(self, y_true, y_pred, scored, origins, *args, **kwargs):
        calls.append((self, y_true, y_pred, scored, origins))
        return original(self, y_true, y_pred, scored, origins, *args, **kwargs)

    ConformalCalibrator.adapt = recording
    try:
        yield calls
    finally:
        ConformalCalibrator.adapt = original


@contextmanager
def captured_blocks():
    """Every blocks calibration of the block: (y_true, y_pred, scored, default power)."""
    calls, original = [], intervals_module.calibrate_on_blocks

    def recording(y_true, y_pred, scored, levels, source, default_power, *args, **kwargs):
        calls.append((y_true, y_pred, scored, default_power))
        return original(y_true, y_pred, scored, levels, source, default_power, *args,
                        **kwargs)

    intervals_module.calibrate_on_blocks = recording
    try:
        yield calls
    finally:
        intervals_module.calibrate_on_blocks = original


def record(out: Path, data_dir: Path) -> None:
    from benchmarks.intervals import run

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="interval-walk-") as tmp:
        for name, path, horizon in _cases(data_dir):
            with captured_walks() as calls, captured_blocks() as blocks:
                metrics, _ = run(path, horizon, Path(tmp), None)
            if not calls:
                raise SystemExit(f"{name} H={horizon}: no adaptive walk in this process "
                                 "(was the run's --interval-method static?)")
            best = best_classical(metrics["baselines"])
            # a network forecast is calibrated otherwise: no blocks calibration then
            stem = save(out / f"{name}-h{horizon}", calls[-1], {
                "name": name, "horizon": horizon, "best_classical": best,
                "native": metrics["intervals"]["baselines"].get(best, {}),
                "pipeline": metrics["intervals"]["pipeline"]},
                blocks[-1] if blocks else None)
            print(f"recorded {stem.name}", file=sys.stderr, flush=True)


def save(stem: Path, walk: tuple, meta: dict, blocks: tuple | None = None) -> Path:
    """One recording: the walk's calibrator and arguments, and the run's figures
    (``pipeline``: the product's intervals; ``native``: the best classical model's); and
    the blocks' forecasts (``blocks``: y_true, y_pred, scored, default power) where the run
    calibrated on them."""
    calibrator, y_true, y_pred, scored, origins = walk
    np.savez(stem.with_suffix(".npz"), y_true=y_true, y_pred=y_pred, scored=scored,
             origins=origins, scores=calibrator.scores)
    if blocks is not None:
        np.savez(_blocks_file(stem), y_true=blocks[0], y_pred=blocks[1], scored=blocks[2])
        meta = {**meta, "blocks_default_power": blocks[3].to_dict()}
    stem.with_suffix(".json").write_text(json.dumps(
        {**meta, "calibrator": calibrator.to_dict()}, indent=1))
    return stem


def _blocks_file(stem: Path) -> Path:
    return stem.with_name(stem.name + "-blocks.npz")


def load(stem: Path) -> tuple[dict, ConformalCalibrator, dict]:
    meta = json.loads(stem.with_suffix(".json").read_text())
    arrays = dict(np.load(stem.with_suffix(".npz")))
    calibrator = ConformalCalibrator.from_dict(meta["calibrator"])
    calibrator = replace(calibrator, scores=arrays.pop("scores"))
    return meta, calibrator, arrays


def replay_case(stem: Path, rate: float, rule: WalkRule) -> list[dict]:
    """Per level: coverage, width, interval score of the walk, the native score, and
    whether the walk gave the recorded run's score (the rule the run was made with)."""
    meta, calibrator, a = load(stem)
    bounds, _ = calibrator.adapt(a["y_true"], a["y_pred"], a["scored"], a["origins"],
                                 rate=rate, rule=rule)
    report = intervals_report(a["y_true"], bounds, a["scored"])
    return [{"case": f"{meta['name']} H={meta['horizon']}", "level": level,
             **report[level], "native": meta["native"].get(level, {}).get("interval_score"),
             "as_recorded": _same(report[level]["interval_score"],
                                  meta["pipeline"][level]["interval_score"])}
            for level in LEVELS]


def replay_space(stem: Path, prior_sd: float) -> list[dict]:
    """``replay_case`` under the product's walk, a blocks-calibrated run calibrated again
    with ``prior_sd`` (0: the default space, the log of a positive series, as before
    ``error_growth``); a run calibrated otherwise (the network) as recorded."""
    meta, calibrator, a = load(stem)
    if "blocks_default_power" in meta:
        blocks = dict(np.load(_blocks_file(stem)))
        calibrator = calibrate_on_blocks(
            blocks["y_true"], blocks["y_pred"], blocks["scored"],
            [float(k) for k in calibrator.quantiles], calibrator.source,
            PowerTransform.from_dict(meta["blocks_default_power"]), prior_sd)
    bounds, _ = calibrator.adapt(a["y_true"], a["y_pred"], a["scored"], a["origins"])
    report = intervals_report(a["y_true"], bounds, a["scored"])
    return [{"case": f"{meta['name']} H={meta['horizon']}", "level": level,
             **report[level], "native": meta["native"].get(level, {}).get("interval_score"),
             "as_recorded": _same(report[level]["interval_score"],
                                  meta["pipeline"][level]["interval_score"])}
            for level in LEVELS]


def _same(a: float | None, b: float | None) -> bool:
    return a == b if a is None or b is None else abs(a - b) <= 1e-9 * max(abs(b), 1.0)


# name -> (rate, rule): the product's walk first, then the alternatives tried
RULES: dict[str, tuple[float, WalkRule]] = {
    "the product's (abs score, rate / H^2 x alpha / 0.2)": (ONLINE_RATE, WalkRule()),
    "pooling alone (no step)": (0.0, WalkRule()),
    "one step for every level (before)": (ONLINE_RATE, WalkRule(relative_step=False)),
    "one step, clamped": (ONLINE_RATE, WalkRule(relative_step=False, clamp=True)),
    "clamped": (ONLINE_RATE, WalkRule(clamp=True)),
    "signed": (ONLINE_RATE, WalkRule(signed=True)),
    "signed, clamped": (ONLINE_RATE, WalkRule(signed=True, clamp=True)),
    "signed, one step": (ONLINE_RATE, WalkRule(signed=True, relative_step=False)),
    "signed, one step, clamped": (ONLINE_RATE, WalkRule(relative_step=False, clamp=True,
                                                        signed=True)),
}


# name -> prior sd of ``error_growth.blocks_power``: the product's space first
SPACES: dict[str, float] = {
    f"the product's (blocks' space, prior sd {PRIOR_SD:g})": PRIOR_SD,
    "the log for a positive series (before 2026-12-07)": 0.0,
    "blocks' space, prior sd 0.25": 0.25,
    "blocks' space, prior sd 1": 1.0,
    "blocks' space, prior sd 2": 2.0,
}


def summary(rows: list[dict]) -> str:
    """within 5 points | mean score ratio | worst ratio (case) | as recorded, of ``rows``."""
    within = sum(abs(r["coverage"] - float(r["level"])) <= 5 for r in rows)
    ratios = {f"{r['case']} {r['level']} %": (
        r["interval_score"] if r["interval_score"] is not None else float("inf"))
        / r["native"] for r in rows if r["native"]}
    worst = max(ratios, key=ratios.get)
    same = sum(r["as_recorded"] for r in rows)
    return (f"{within}/{len(rows)} | {np.mean(list(ratios.values())):.3f} | "
            f"{ratios[worst]:.2f} ({worst}) | {same}/{len(rows)} |")


def replay(dirs: list[Path]) -> str:
    lines = [f"# Adaptive walk replay\n\n{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; "
             f"command: `python benchmarks/interval_walk.py replay "
             f"{' '.join(d.name for d in dirs)}` on the recordings of `record` (the default "
             "runs of `benchmarks/intervals.py`, each set as its `--heldout`, "
             "`--more-series` or `--data-dir`). Test split at 80 % and 95 %: case-levels "
             "with coverage within 5 points of the level; the interval score over the "
             "native intervals of the classical model with the lowest test MASE, mean and "
             "worst; as recorded: case-levels whose replayed interval score is the run's "
             "(every one under the product's rule: the replay is the run's walk).\n",
             "| rule | recorded set | within 5 pts | mean score / best classical | "
             "worst case-level | as recorded |", "|---|---|---|---|---|---|"]
    empty = [str(d) for d in dirs if not any(d.glob("*.json"))]
    if empty:
        raise SystemExit(f"no recordings in {', '.join(empty)}: write them with "
                         "`interval_walk.py record DIR`")
    lines += _table(dirs, {name: (lambda stem, r=rate, u=rule: replay_case(stem, r, u))
                           for name, (rate, rule) in RULES.items()})
    lines += ["", "Calibration space of a forecast calibrated on its blocks (a classical or "
              "combined one; `error_growth.blocks_power`), each walked by the product's "
              "rule. Recordings without the blocks (the network's, or made before "
              "2026-12-07) are walked as recorded.", "",
              "| space | recorded set | within 5 pts | mean score / best classical | "
              "worst case-level | as recorded |", "|---|---|---|---|---|---|"]
    lines += _table(dirs, {name: (lambda stem, p=prior: replay_space(stem, p))
                           for name, prior in SPACES.items()})
    return "\n".join(lines) + "\n"


def _table(dirs: list[Path], replays: dict) -> list[str]:
    """One row per (replay, recorded set), and one over every set."""
    lines = []
    for name, replayed in replays.items():
        every = []
        for folder in dirs:
            rows = [r for stem in sorted(folder.glob("*.json"))
                    for r in replayed(stem.with_suffix(""))]
            every += rows
            lines.append(f"| {name} | {folder.name} | {summary(rows)}")
        if len(dirs) > 1:
            lines.append(f"| {name} | **all** | {summary(every)}")
    return lines


def main() -> int:
    interrupt_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    rec = verbs.add_parser("record", help="run the interval benchmark's cases and keep "
                           "what each adaptive walk was given")
    rec.add_argument("out", type=Path, help="folder for the recordings (.npz + .json)")
    add_series_arguments(rec)
    rep = verbs.add_parser("replay", help="walk the recordings under each rule of RULES")
    rep.add_argument("dirs", type=Path, nargs="+", help="folders written by record")
    rep.add_argument("--out", type=Path, help="also write the Markdown table here")
    args = parser.parse_args()
    if args.verb == "record":
        with tempfile.TemporaryDirectory(prefix="interval-walk-series-") as tmp:
            record(args.out, series_folder(args, Path(tmp)))
        return 0
    text = replay(args.dirs)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

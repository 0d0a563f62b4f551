"""Accuracy benchmark: the pipeline's default configuration on every shared series.

    .venv/bin/python benchmarks/accuracy.py [--data-dir ../shared/data | --heldout] [--out FILE]

For each series and for H=1 and H=one season, runs the real ``e2e`` flow (defaults
only: auto transform, auto lookback, every baseline, the forecast chosen across families
on backtests) and prints one table: MASE, RMSE and sMAPE of the run's forecast (and what
it is), the network alone and every baseline on the same test windows, plus wall time;
then the checks: forecast MASE below naive-last and the best seasonal-naive, and
forecast / best-classical MASE next to the network alone's.

``--heldout`` runs on three real series the defaults were not tuned on instead
(benchmarks/heldout_series.py), to show how the defaults carry over; ``--more-series`` on
four more (monthly, quarterly, yearly).

``--covariates`` runs elecdemand (half-hourly demand with temperature and a workday flag)
at H=1 and H=48, each twice with the same seed: with its covariates (both declared known
in advance: the workday flag is calendar, the temperature stands for a weather forecast —
the observed values, i.e. a perfect forecast — plus ``--calendar-features``) and without.
It prints the run's forecast, the network and the classical models with and without the
covariates. Only the last ``--weeks`` weeks are used (default 12: 4,032 points, the size
of taylor_halfhourly, so a case takes minutes, not the half hour a full year would).

``--covariate-dir DIR`` does the same for every ``NAME.csv`` in DIR that has a
``NAME.covariates.json`` (its covariate_spec.v1), at H=1 and H=one season: real series
with covariates the defaults were not developed on (benchmarks/covariate_series.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.cli import quiet_environment  # noqa: E402
from spline_lstm.models.classical import EXOGENOUS_SUFFIX  # noqa: E402

quiet_environment()

CLASSICAL = ("auto_ets", "auto_arima", "auto_theta", "mstl_ets", "mstl_arima")
DEFAULT_DATA_DIR = Path(os.environ.get("SPLINE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def _cases(data_dir: Path) -> list[tuple[str, Path, int]]:
    from spline_lstm.data.frequency import infer_freq, infer_seasons
    from spline_lstm.data.ingest import read_series

    cases = []
    for path in sorted(data_dir.glob("*.csv")):
        if "target" not in path.open().readline().strip().split(","):
            continue  # e.g. the covariates file (elecdemand): its own benchmark
        timestamps = read_series(path).frame["timestamp"]
        season = infer_seasons(infer_freq(timestamps))[0]
        cases += [(path.stem, path, h) for h in horizons(len(timestamps), season)]
    return cases


def horizons(n_points: int, season: int) -> list[int]:
    """H=1 and H=one season, where the series holds five seasons (train three, validation
    and test one each); yearly series H=1 once. 100 minutes of a minutely series hold no
    day (1,440 steps): the product would refuse that horizon (exit 26), so it is left out.
    """
    return sorted({1} | ({season} if n_points >= 5 * season else set()))


def run_case(path: Path, horizon: int, artifacts: Path) -> tuple[dict, float]:
    from flows.e2e import e2e_flow

    run_id = f"{path.stem}-h{horizon}"
    start = time.perf_counter()
    state = e2e_flow(run_id=run_id, input=str(path), horizon=horizon,
                     artifacts_dir=str(artifacts), overwrite=True, return_state=True)
    seconds = time.perf_counter() - start
    if not state.is_completed():
        raise SystemExit(f"{run_id} failed: {state.message}")
    return json.loads((artifacts / "metrics" / f"{run_id}.json").read_text()), seconds


COVARIATE_SPEC = {"schema_version": "covariate_spec.v1", "dynamic_covariates": [
    {"name": "temperature_c", "type": "numeric", "required": True, "known_in_advance": True},
    {"name": "workday", "type": "boolean", "required": True, "known_in_advance": True}]}
ELEC_HORIZONS = (1, 48)


def with_and_without(name: str, frame, target_col: str, spec: Path, horizon: int,
                     tmp: Path, artifacts: Path) -> dict:
    """Run ``frame`` with its covariates and without them; {label: (metrics, seconds)}.

    The last ``horizon`` rows of ``frame`` are the forward forecast's steps: their
    covariates are the future file, the rows before them the run's input.
    """
    from flows.e2e import e2e_flow

    known = [c["name"] for c in json.loads(spec.read_text())["dynamic_covariates"]
             if c.get("known_in_advance")]
    data, future = tmp / f"{name}_h{horizon}.csv", tmp / f"{name}_future_h{horizon}.csv"
    frame.iloc[:len(frame) - horizon].to_csv(data, index=False)
    frame.iloc[len(frame) - horizon:][["timestamp", *known]].to_csv(future, index=False)
    with_them = {"covariate_spec": str(spec), "calendar_features": True}
    if known:
        with_them["future_covariates"] = str(future)
    results = {}
    for label, extra in (("with", with_them), ("without", {})):
        run_id = f"{name}-h{horizon}-{label}"
        start = time.perf_counter()
        state = e2e_flow(run_id=run_id, input=str(data), target_col=target_col,
                         horizon=horizon, artifacts_dir=str(artifacts), overwrite=True,
                         return_state=True, **extra)
        seconds = time.perf_counter() - start
        if not state.is_completed():
            raise SystemExit(f"{run_id} failed: {state.message}")
        metrics = json.loads((artifacts / "metrics" / f"{run_id}.json").read_text())
        results[label] = (metrics, seconds)
        print(f"{name} H={horizon} {label} covariates: MASE "
              f"{metrics['metrics']['mase']:.3f} ({seconds:.0f}s)", file=sys.stderr,
              flush=True)
    return results


def _covariate_tables(results: list[tuple[int, dict]]) -> str:
    header = ["| H | what | with covariates | without | ratio |", "|---|---|---|---|---|"]
    check_header = ["| H | forecast with / without | ≤ 0.9 | best classical with covariates "
                    "| forecast ≤ it | network with / without |", "|---|---|---|---|---|---|"]
    rows = [row for horizon, pair in results for row in _covariate_rows(horizon, pair)]
    checks = [_covariate_check(horizon, pair) for horizon, pair in results]
    return "\n".join(header + rows + ["", *check_header, *checks]) + "\n"


def covariate_cases(data_dir: Path, weeks: int, tmp: Path, artifacts: Path) -> str:
    """Run elecdemand with and without covariates at each horizon; the Markdown table."""
    import pandas as pd

    frame = pd.read_csv(data_dir / "elecdemand_halfhourly.csv")
    spec = tmp / "covariate_spec.json"
    spec.write_text(json.dumps(COVARIATE_SPEC))
    results = []
    for horizon in ELEC_HORIZONS:
        # the weeks before the last H rows, and those rows (the forward forecast's steps)
        start = max(0, len(frame) - horizon - weeks * 7 * 48) if weeks else 0
        results.append((horizon, with_and_without("elecdemand", frame.iloc[start:],
                                                  "demand_gw", spec, horizon, tmp, artifacts)))
    return _covariate_tables(results)


def covariate_dir_cases(folder: Path, tmp: Path, artifacts: Path) -> str:
    """Every NAME.csv with a NAME.covariates.json in ``folder``, at H=1 and H=one season,
    with and without its covariates; one section per series."""
    import pandas as pd

    from spline_lstm.data.frequency import infer_freq, infer_seasons

    sections, ratios = [], []
    for spec in sorted(folder.glob("*.covariates.json")):
        name = spec.name.removesuffix(".covariates.json")
        frame = pd.read_csv(folder / f"{name}.csv")
        season = infer_seasons(infer_freq(pd.to_datetime(frame["timestamp"])))[0]
        results = [(h, with_and_without(name, frame, "target", spec, h, tmp, artifacts))
                   for h in horizons(len(frame), season)]
        ratios += [pair["with"][0]["metrics"]["mase"] / pair["without"][0]["metrics"]["mase"]
                   for _, pair in results]
        sections.append(f"### {name}\n\n{_covariate_tables(results)}")
    if not sections:
        raise SystemExit(f"no NAME.csv with a NAME.covariates.json in {folder}")
    return ("\n".join(sections) + f"\nMean over cases of forecast MASE with / without "
            f"covariates: **{sum(ratios) / len(ratios):.3f}** ({len(ratios)} cases).\n")


def _covariate_rows(horizon: int, results: dict) -> list[str]:
    with_m, with_s = results["with"]
    without_m, without_s = results["without"]
    section = with_m["covariates"]

    def row(what, a, b):
        return f"| {horizon} | {what} | {a:.3f} | {b:.3f} | {a / b:.3f} |"

    out = [f"| {horizon} | forecast (with: {with_m.get('model_choice', {}).get('chosen')}; "
           f"without: {without_m.get('model_choice', {}).get('chosen')}) | "
           f"{with_m['metrics']['mase']:.3f} | {without_m['metrics']['mase']:.3f} | "
           f"{with_m['metrics']['mase'] / without_m['metrics']['mase']:.3f} |",
           row("network (same transform, same seed)", section["network_with"]["mase"],
               section["network_without"]["mase"])]
    baselines = with_m["baselines"]
    for name in sorted(n for n in baselines if n.endswith(EXOGENOUS_SUFFIX)):
        plain = name.removesuffix(EXOGENOUS_SUFFIX)
        out.append(row(f"{plain} (`{name}` with)", baselines[name]["mase"],
                       baselines[plain]["mase"]))
    out.append(f"| {horizon} | wall time, s | {with_s:.0f} | {without_s:.0f} | "
               f"{with_s / without_s:.2f} |")
    return out


def _covariate_check(horizon: int, results: dict) -> str:
    with_m, without_m = results["with"][0], results["without"][0]
    ratio = with_m["metrics"]["mase"] / without_m["metrics"]["mase"]
    given = {k: v["mase"] for k, v in with_m["baselines"].items()
             if k in CLASSICAL or k.endswith(EXOGENOUS_SUFFIX)}
    best = min(given, key=given.get)
    section = with_m["covariates"]
    return (f"| {horizon} | {ratio:.3f} | {'yes' if ratio <= 0.9 else '**no**'} | {best} "
            f"{given[best]:.3f} | {'yes' if with_m['metrics']['mase'] <= given[best] else '**no**'}"
            f" | {section['mase_ratio']:.3f} |")


def render(results: list[tuple[str, int, dict, float]]) -> str:
    lines = ["| series | H | forecaster | MASE | RMSE | sMAPE % | wall s |",
             "|---|---|---|---|---|---|---|"]
    checks, ratios, network_ratios = [], [], []
    for name, horizon, metrics, seconds in results:
        model, choice = metrics["metrics"], metrics.get("model_choice") or {}
        chosen = choice.get("chosen", "lstm")
        network = choice.get("network_test_metrics") or model
        lines.append(f"| {name} | {horizon} | **forecast: {chosen}** | **{model['mase']:.3f}** | "
                     f"{model['rmse']:.4g} | {model['smape']:.3f} | {seconds:.0f} |")
        lines.append(f"| | | network alone | {network['mase']:.3f} | {network['rmse']:.4g} | "
                     f"{network['smape']:.3f} | |")
        baselines = metrics["baselines"]
        for key, values in sorted(baselines.items(), key=lambda kv: kv[1]["mase"]):
            lines.append(f"| | | {key} | {values['mase']:.3f} | {values['rmse']:.4g} | "
                         f"{values['smape']:.3f} | |")
        snaive = min(v["mase"] for k, v in baselines.items() if k.startswith("seasonal_naive"))
        best_name = best_classical(baselines)
        ratio = model["mase"] / baselines[best_name]["mase"]
        network_ratio = network["mase"] / baselines[best_name]["mase"]
        ratios.append(ratio)
        network_ratios.append(network_ratio)
        checks.append(f"| {name} | {horizon} | {chosen} ({choice.get('kind', 'lstm')}) | "
                      f"{model['mase']:.3f} | "
                      f"{'yes' if model['mase'] < baselines['naive_last']['mase'] else '**no**'} | "
                      f"{'yes' if model['mase'] < snaive else '**no**'} | {best_name} "
                      f"{baselines[best_name]['mase']:.3f} | {ratio:.2f} | {network_ratio:.2f} | "
                      f"{len(choice.get('chosen_on', []))} | {seconds:.0f} |")
    total = sum(r[3] for r in results)
    summary = ["| series | H | forecast (kind) | MASE | < naive-last | < best seasonal-naive | "
               "best classical | forecast / classical | network alone / classical | "
               "blocks chosen on | wall s |",
               "|---|---|---|---|---|---|---|---|---|---|---|", *checks, "",
               f"Mean over cases of forecast MASE / best classical MASE: "
               f"**{sum(ratios) / len(ratios):.3f}** (the network alone: "
               f"{sum(network_ratios) / len(network_ratios):.3f}). "
               f"Total wall time {total / 60:.1f} min."]
    return "\n".join(lines) + "\n\n" + "\n".join(summary) + "\n"


def main() -> int:
    interrupt_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_series_arguments(parser)
    parser.add_argument("--covariates", action="store_true", help="run elecdemand with and "
                        "without its covariates instead (see above)")
    parser.add_argument("--covariate-dir", type=Path, help="run every NAME.csv of this "
                        "folder that has a NAME.covariates.json (its covariate_spec.v1) with "
                        "and without its covariates instead, at H=1 and H=one season "
                        "(benchmarks/covariate_series.py writes such a folder)")
    parser.add_argument("--weeks", type=int, default=12, help="with --covariates: the last "
                        "this many weeks of elecdemand (0: the whole year)")
    parser.add_argument("--out", type=Path, help="also write the Markdown result here")
    parser.add_argument("--keep", type=Path, help="keep every run's artifacts in this folder "
                        "(reports, metrics with every candidate's scores); default: a "
                        "temporary folder")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="accuracy-") as tmp:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            tmp = str(args.keep.resolve())
        warm_up()
        if args.covariate_dir:
            return _print(_header(args) + covariate_dir_cases(args.covariate_dir, Path(tmp),
                                                              Path(tmp) / "artifacts"),
                          args.out)
        if args.covariates:
            return _print(_header(args) + covariate_cases(args.data_dir, args.weeks, Path(tmp),
                                                          Path(tmp) / "artifacts"), args.out)
        args.data_dir = series_folder(args, Path(tmp))
        for name, path, horizon in _cases(args.data_dir):
            metrics, seconds = run_case(path, horizon, Path(tmp))
            print(f"{name} H={horizon}: MASE {metrics['metrics']['mase']:.3f} ({seconds:.0f}s)",
                  file=sys.stderr, flush=True)
            results.append((name, horizon, metrics, seconds))
    return _print(_header(args) + render(results), args.out)


def warm_up() -> None:
    """One untimed run (the synthetic series, no backtests; its artifacts in a folder of
    their own, apart from kept ones) before any case is timed.

    The first flow of a process starts Prefect's temporary server and imports TensorFlow
    (20-30 s here): without it the first case's first run carried that (in the interval
    benchmark its backtests looked 2.6 x as dear as a run without them where 3 windows
    cost 1.1 x). The first tracked run in the cases' folder still creates its MLflow
    store (about 10 s), as a user's first run in a new artifacts folder does.
    """
    from flows.e2e import e2e_flow

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="warm-up-") as artifacts:
        e2e_flow(run_id="warm-up", artifacts_dir=artifacts, backtest_windows=0,
                 stage_tags="off", return_state=True)
    print(f"warm-up (not timed): {time.perf_counter() - start:.0f} s", file=sys.stderr,
          flush=True)


def interrupt_on_sigterm() -> None:
    """A SIGTERM (``kill``, ``timeout``) stops a benchmark as Ctrl-C does: the exception
    unwinds the flow it runs in-process, and the temporary Prefect server that this
    process's flows started stops at exit. Under the default action the process died at
    once and left that server running."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def add_series_arguments(parser: argparse.ArgumentParser) -> None:
    """--data-dir, --heldout, --more-series: which series a benchmark runs (this one, the
    interval benchmark and the walk replay's recorder)."""
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help="folder of CSVs with a timestamp and a target column, each run "
                        "at H=1 and H=one season (default: $SPLINE_SHARED_DATA or "
                        "../shared/data)")
    parser.add_argument("--heldout", action="store_true", help="run on the series of "
                        "benchmarks/heldout_series.py instead of --data-dir")
    parser.add_argument("--more-series", action="store_true", help="run on the four more "
                        "series of benchmarks/heldout_series.py --more instead")


def series_folder(args, tmp: Path) -> Path:
    """The folder of the series ``add_series_arguments`` chose: --data-dir, or the held-out
    ones, written into ``tmp``."""
    if not (args.heldout or args.more_series):
        return args.data_dir
    from benchmarks.heldout_series import write_series

    folder = tmp / "heldout"
    write_series(folder, more=args.more_series)
    return folder


def best_classical(baselines: dict) -> str:
    """The classical model with the lowest test MASE: the benchmarks' yardstick."""
    classical = {k: v["mase"] for k, v in baselines.items() if k in CLASSICAL}
    return min(classical, key=classical.get)


def data_dir_flag(args) -> str:
    """``--data-dir DIR`` for a benchmark's header when the series came from a folder of
    one's own (this benchmark's and the interval benchmark's)."""
    if args.heldout or args.more_series or args.data_dir == DEFAULT_DATA_DIR:
        return ""
    return f" --data-dir {args.data_dir}"


def _header(args) -> str:
    flags = (" --heldout" if args.heldout else "") + (
        " --more-series" if args.more_series else "") + (
        f" --covariates --weeks {args.weeks}" if args.covariates else "") + (
        f" --covariate-dir {args.covariate_dir}" if args.covariate_dir else "") + \
        data_dir_flag(args)
    return (f"# Accuracy benchmark\n\n{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
            f"{platform.machine()}, {os.cpu_count()} CPU cores, Python "
            f"{platform.python_version()}; command: `python benchmarks/accuracy.py{flags}`.\n"
            "Chronological 70/10/20 split (validation and test at least one horizon), "
            "test metrics in original units on observed "
            "targets only; classical models fitted on train+val and rolled forward on "
            "actuals.\n\n")


def _print(text: str, out: Path | None) -> int:
    print(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

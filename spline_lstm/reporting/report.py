"""Render the run report (SPEC §6) as Markdown from the run's typed records (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from contracts.config import RunConfig
from contracts.records import (
    DataSummary,
    ForecastRecord,
    GridSummary,
    InferenceSnapshot,
    SelectionSummary,
    TrainingSummary,
    Verdict,
)
from spline_lstm.evaluation.scoring import Evaluation
from spline_lstm.reporting.choice import choice_section
from spline_lstm.reporting.format import fmt
from spline_lstm.transforms.preprocessor import Preprocessor
from spline_lstm.windows.folds import window_label

METRIC_COLUMNS = (("mase", "MASE"), ("mae", "MAE"), ("rmse", "RMSE"), ("smape", "sMAPE %"),
                  ("mape", "MAPE %"), ("r2", "R²"))
FORECAST_ROWS = 48


@dataclass(frozen=True)
class ReportContext:
    run_id: str
    git_commit: str
    command: str
    config: RunConfig
    preprocessor: Preprocessor
    data_summary: DataSummary
    split_points: dict[str, int]
    split_windows: dict[str, int]
    evaluation: Evaluation
    verdict: Verdict
    training: TrainingSummary
    inference: InferenceSnapshot
    forecast: ForecastRecord
    artifacts: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    plot_file: str | None = None
    intervals: dict | None = None  # the metrics record's "intervals"
    backtest: dict | None = None  # the metrics record's "backtest"
    model_choice: dict | None = None  # the metrics record's "model_choice"
    covariates: dict | None = None  # the metrics record's "covariates"


def _sort_key(value: float) -> float:
    return value if np.isfinite(value) else float("inf")


def metrics_table(evaluation: Evaluation, model_label: str = "**model**",
                  network: tuple[str, dict] | None = None) -> str:
    """The forecast first, then the network alone (when it is not the forecast), then the
    baselines, best first."""
    header = "| forecaster | " + " | ".join(label for _, label in METRIC_COLUMNS) + " |"
    lines = [header, "|" + "---|" * (len(METRIC_COLUMNS) + 1)]
    rows = [(model_label, evaluation.metrics)] + ([network] if network else []) + sorted(
        evaluation.baselines.items(), key=lambda kv: _sort_key(kv[1]["mase"]))
    for name, values in rows:
        lines.append(f"| {name} | " + " | ".join(fmt(values[k]) for k, _ in METRIC_COLUMNS)
                     + " |")
    return "\n".join(lines)


def verdict_sentence(verdict: Verdict) -> str:
    """One plain sentence, read from the recorded verdict."""
    model, best, name = verdict.model_mase, verdict.best_baseline_mase, verdict.best_baseline
    if model is None:
        return "MASE is undefined for this run (no scorable test targets or zero scale)."
    if verdict.beats_baselines:
        return (f"The forecast beats every other baseline on the test split: MASE {fmt(model)} "
                f"vs {fmt(best)} for the best one ({name}), "
                f"{100 * (1 - model / best):.1f}% lower.")
    return (f"**A baseline wins on the test split**: {name} has MASE {fmt(best)} vs "
            f"{fmt(model)} for the forecast. It was not chosen because it scored worse before "
            f"the test split (see Model choice): check whether this series changed, or use "
            f"{name} for it.")


def _run_section(ctx: ReportContext) -> list[str]:
    spec, pre = ctx.training.model, ctx.preprocessor
    return ["## Run", "",
            f"- run_id: `{ctx.run_id}`",
            f"- git commit: `{ctx.git_commit}`",
            f"- model: {ctx.config.model} {ctx.config.hidden_units} over segments of "
            f"{spec['segment_length']} steps, "
            f"{'window-relative' if spec['window_relative'] else 'absolute'} inputs, "
            f"lookback {pre.lookback}, horizon {pre.horizon}, seed {ctx.config.seed}",
            "", "Reproduce:", "", "```bash", ctx.command, "```", ""]


def _data_section(ctx: ReportContext) -> list[str]:
    data, pre, grid = ctx.data_summary, ctx.preprocessor, ctx.preprocessor.grid
    points, windows = ctx.split_points, ctx.split_windows
    chain = pre.chain.to_dict()
    out = ["## Data", "",
           f"- source: {data.source}",
           f"- rows read: {data.n_rows} ({data.n_missing_values} empty target values); grid: "
           f"{grid.n_grid} points at `{pre.freq}` from {grid.start} to {grid.end}"
           f"{f' ({data.timezone})' if data.timezone else ''}",
           f"- seasons: {pre.seasons}",
           f"- gaps filled: {grid.n_filled} points in {grid.n_gaps} gap(s), longest "
           f"{grid.longest_gap} steps (method {grid.method})",
           f"- split (points): train {points['train']}, val {points['val']}, test "
           f"{points['test']}; windows: train {windows['train']}, val {windows['val']}, "
           f"test {windows['test']}",
           f"- transforms (fitted on train): **{chain['name']}**, in order: " +
           "; ".join(_step_text(step) for step, active in zip(chain["steps"], _active(pre))
                     if active),
           f"- model inputs: {', '.join(pre.features.names)}"]
    if pre.chain.adjuster.enabled:
        out.append("- seasonal adjustment: the seasonal part of each point comes from an MSTL "
                   "decomposition of points at least one horizon earlier (refreshed every "
                   "season, every few on long series), so a forecast only adds back what "
                   "was known at its origin")
    out.append("")
    out += [f"- note: {note}" for note in data.notes]
    if data.transform_selection:
        out += _selection_table(data.transform_selection)
    return out


def _active(pre: Preprocessor) -> list[bool]:
    """Which steps change the series (scaling always does)."""
    return [step.label is not None or step.step == "scaling" for step in pre.chain.steps]


def _step_text(step: dict) -> str:
    details = ", ".join(f"{k} {fmt(v)}" for k, v in step.items() if k != "step")
    return f"{step['step']} ({details})"


def _selection_table(selection: SelectionSummary) -> list[str]:
    out = ["", f"Transform chosen on the validation split (never the test split): "
           f"**{selection.chosen}**.", "",
           "| candidate | forecaster | val MASE | best epoch | seconds | note |",
           "|---|---|---|---|---|---|"]
    out += [f"| {c.name} | {c.forecaster} | {fmt(c.val_mase)} | {fmt(c.best_epoch)} | "
            f"{fmt(c.seconds)} | {c.note} |" for c in selection.candidates]
    return out


def _metrics_section(ev: Evaluation, choice: dict | None) -> list[str]:
    label, network = _forecast_label(choice), None
    if choice:
        if choice["chosen"] != _network_name(choice) and choice.get("network_test_metrics"):
            network = (f"{_network_name(choice)} (the network alone)",
                       choice["network_test_metrics"])
    out = ["", "## Test metrics (original units, observed targets only)", "",
           metrics_table(ev, label, network), "",
           f"MASE scale: in-sample seasonal-naive MAE on the train split, season {ev.season} "
           f"(= {fmt(ev.mase_scale)}).", ""]
    if len(ev.per_step) > 1:
        out += [f"Per step ({'the forecast' if choice else 'model'}):", "",
                "| step | MAE | RMSE | MASE |", "|---|---|---|---|"]
        shown = ev.per_step if len(ev.per_step) <= 12 else \
            ev.per_step[::max(1, len(ev.per_step) // 12)]
        out += [f"| {s['step']} | {fmt(s['mae'])} | {fmt(s['rmse'])} | {fmt(s['mase'])} |"
                for s in shown]
        out.append("")
    return out


def _network_name(choice: dict) -> str:
    if choice.get("network"):
        return choice["network"]
    return next((c["name"] for c in choice.get("candidates", []) if c["kind"] == "lstm"),
                "lstm")


def _training_and_inference(tr: TrainingSummary, inf: InferenceSnapshot) -> list[str]:
    return ["## Training (the network)", "",
            f"- epochs: {tr.epochs_ran} of {tr.epochs_requested} (best epoch {tr.best_epoch}, "
            f"best val_loss {fmt(tr.best_val_loss)})",
            f"- early stopped: {tr.early_stopped}", "",
            "## Latest inference (last test window)", "",
            f"- origin: {inf.origin}, the network's input shape {inf.x_shape}",
            f"- y_true: {[fmt(v) for v in inf.y_true_last]}",
            f"- y_pred (the forecast): {[fmt(v) for v in inf.y_pred_last]}", ""]


def _forecast_section(fc: ForecastRecord, plot_file: str | None) -> list[str]:
    bounds = list(fc.intervals)
    out = ["## Forecast (next steps after the last observation)", "",
           f"Origin {fc.origin}.", "", "| timestamp | forecast | " + " | ".join(bounds) + " |",
           "|---|---|" + "---|" * len(bounds)]
    out += [f"| {t} | {fmt(v)} | " + " | ".join(fmt(fc.intervals[b][i]) for b in bounds) + " |"
            for i, (t, v) in enumerate(zip(fc.timestamps[:FORECAST_ROWS],
                                           fc.values[:FORECAST_ROWS]))]
    if len(fc.values) > FORECAST_ROWS:
        out.append(f"| … | ({len(fc.values) - FORECAST_ROWS} more in the predictions CSV) |")
    out.append("")
    return out + ([f"![forecast]({plot_file})", ""] if plot_file else [])


def run_warnings(data: DataSummary, training: TrainingSummary, verdict: Verdict,
                 grid: GridSummary | None = None) -> list[str]:
    """What a reader should know before trusting the run, from its records."""
    found = [f"gaps: {w}" for w in (grid.warnings if grid else [])]
    if not training.early_stopped:
        found.append(f"early stopping did not trigger: training ran all "
                     f"{training.epochs_requested} epochs; more epochs may help")
    if not verdict.beats_baselines:
        found.append(f"baseline {verdict.best_baseline} beats the forecast on the test split "
                     f"(MASE {fmt(verdict.best_baseline_mase)} vs {fmt(verdict.model_mase)})")
    return found + [f"input: {note}" for note in data.notes]


def _forecast_label(choice: dict | None) -> str:
    """How the tables name the run's forecast: the chosen candidate where there was a
    choice, so no reader takes its rows for the network's."""
    return f"**forecast: {choice['chosen']}**" if choice else "**model**"


def _error_space(power: dict) -> str:
    """Where the calibration errors were measured, e.g. "after a Box-Cox transform
    (lambda 0.43)": the run's power transform, or the space the blocks' errors showed."""
    if power["kind"] == "none":
        return "in original units"
    if power["kind"] == "log":
        return "after a log transform"
    return f"after a Box-Cox transform (lambda {power['lambda']:.2f})"


def _intervals_section(intervals: dict | None, choice: dict | None) -> list[str]:
    if not intervals:
        return []
    calibration = intervals["calibration"]
    adaptive = calibration["method"].startswith("online")
    out = ["## Prediction intervals (test split)", "",
           f"{calibration['method']}: calibrated on {calibration['source']} "
           f"({calibration['n_scores']} scored errors), errors measured "
           f"{_error_space(calibration['power'])}" +
           ("; across the test split each interval was also calibrated on the errors of "
            "earlier forecasts whose targets were observed before its origin (never its own), "
            "and each level's working miscoverage followed its misses" +
            _working_levels(calibration.get("online_miscoverage") or {}) + "."
            if adaptive else
            "; the test split is never used.") +
           " Coverage should be close to the level; a lower interval score is better.", "",
           "| forecaster | level | coverage % | mean width | interval score |",
           "|---|---|---|---|---|"]
    rows = [(_forecast_label(choice), intervals["pipeline"])] + [
        (f"{name} (its own)", levels) for name, levels in intervals["baselines"].items()]
    for name, levels in rows:
        out += [f"| {name} | {level} | {fmt(m['coverage'], 1)} | {fmt(m['mean_width'])} | "
                f"{fmt(m['interval_score'])} |" for level, m in levels.items()]
    return out + [""]


def _working_levels(miscoverage: dict) -> str:
    """Where the adaptive walk ended: "(where the walk ended, the forward forecast's 80 %
    band is drawn as a 74.1 % band of the errors, its 95 % band as a 97.5 % one)"."""
    if not miscoverage:
        return ""
    drawn = [(level, fmt(100 * (1 - alpha))) for level, alpha in miscoverage.items()]
    (level, working), rest = drawn[0], drawn[1:]
    return (f" (where the walk ended, the forward forecast's {level} % band is drawn as a "
            f"{working} % band of the errors" +
            "".join(f", its {level} % band as a {working} % one" for level, working in rest) +
            ")")


def _forecast_per_window(choice: dict | None, windows: list[int]) -> list[float] | None:
    """The chosen forecast's MASE on each backtest window (the model choice scored every
    candidate there), or None when it is the network itself or was chosen elsewhere."""
    if not choice or choice["chosen"] == _network_name(choice):
        return None
    row = next((c for c in choice.get("candidates", []) if c["name"] == choice["chosen"]),
               None)
    if row is None:
        return None
    by_block = dict(zip(choice["chosen_on"], row["backtest_mase"]))
    labels = [window_label(w) for w in windows]
    return [by_block[label] for label in labels] if all(b in by_block for b in labels) \
        else None


def _backtest_section(backtest: dict | None, choice: dict | None) -> list[str]:
    if not backtest:
        return []
    rows = backtest["per_window"]
    forecast = _forecast_per_window(choice, [row["window"] for row in rows])
    network = f"{_network_name(choice)}, " if choice else ""
    summary = (f"{backtest['windows']} windows of {backtest['step']} points. The network "
               f"({network}with the run's transform and settings) was refitted at each: "
               f"MASE mean {fmt(backtest['mase_mean'])}, spread (std) "
               f"{fmt(backtest['mase_std'])}.")
    if forecast:
        summary += (f" The forecast ({choice['chosen']}) on the same windows: MASE mean "
                    f"{fmt(float(np.mean(forecast)))} (the model choice above was made on "
                    "them).")
    out = ["## Backtest (rolling origin, before the test split)", "", summary, "",
           "| window | block starts | train points | network MASE | " +
           ("forecast MASE | " if forecast else "") + "best baseline (MASE) |",
           "|---|---|---|---|---|" + ("---|" if forecast else "")]
    for i, row in enumerate(rows):
        finite = {k: v for k, v in row["baselines"].items() if v is not None}
        best = min(finite, key=finite.get) if finite else None
        out.append(f"| {row['window']} | {row['cut']} | {row['train_points']} | "
                   f"{fmt(row['mase'])} | " + (f"{fmt(forecast[i])} | " if forecast else "") +
                   f"{f'{best} ({fmt(finite[best])})' if best else '—'} |")
    steps = backtest["mase_per_step_mean"]
    if len(steps) > 1:
        out += ["", "The network's MASE per step (mean over windows): " +
                ", ".join(fmt(v) for v in steps[:24]) + (" …" if len(steps) > 24 else "")]
    return out + [""]


def _covariates_section(covariates: dict | None, baselines: dict) -> list[str]:
    """The covariates used, the network with and without them, and the classical models
    with (``_x``) and without them."""
    if not covariates:
        return []
    used = ", ".join(f"`{c['name']}` ({c['type']}"
                     f"{', known in advance' if c['known_in_advance'] else ''}"
                     f"{', read as its change since each origin' if c.get('relative') else ''})"
                     for c in covariates["used"])
    if any(c.get("relative") for c in covariates["used"]):
        used += (". A covariate read as its change since each origin trends: its validation "
                 "split lies beyond the train split's range, so its level would be new to "
                 "the network")
    out = ["## Covariates", "", f"Used: {used}. Model columns: "
           f"{', '.join(f'`{c}`' for c in covariates['columns'])}.", "",
           "| test split | MASE | RMSE | MAE | sMAPE % |", "|---|---|---|---|---|"]
    rows = [("network with covariates", covariates["network_with"]),
            ("network without covariates (same seed)", covariates["network_without"])]
    from spline_lstm.models.classical import EXOGENOUS_SUFFIX, ON_CHANGES_MARGIN

    exogenous = [name for name in baselines if name.endswith(EXOGENOUS_SUFFIX)]
    for name in exogenous:
        plain = name.removesuffix(EXOGENOUS_SUFFIX)
        if plain in baselines:
            rows.append((f"{plain} without covariates", baselines[plain]))
        rows.append((f"{plain} with covariates (`{name}`)", baselines[name]))
    for label, m in rows:
        out.append(f"| {label} | {fmt(m.get('mase'))} | {fmt(m.get('rmse'))} | "
                   f"{fmt(m.get('mae'))} | {fmt(m.get('smape'))} |")
    out += ["", f"MASE with / without covariates (network): "
            f"{fmt(covariates['mase_ratio'])}.", ""]
    fits = covariates.get("classical_regression") or {}
    if fits:
        out += ["Covariates' coefficients: " + "; ".join(
            f"`{name}` fitted them {how}" for name, how in fits.items()) +
            " (of a fit on changes over the horizon, seasonally adjusted, and a joint fit "
            "with the ARIMA errors on the covariates as they are, the one that forecast the "
            f"end of its fit span better; the fit on changes by {ON_CHANGES_MARGIN:.0%} or "
            "more).", ""]
    return out


def render_report(ctx: ReportContext) -> str:
    out = [f"# Run report — `{ctx.run_id}`", "", "## Verdict", "",
           verdict_sentence(ctx.verdict), ""]
    out += choice_section(ctx.model_choice)
    out += _run_section(ctx) + _data_section(ctx) + _metrics_section(ctx.evaluation,
                                                                       ctx.model_choice)
    out += _covariates_section(ctx.covariates, ctx.evaluation.baselines)
    out += (_intervals_section(ctx.intervals, ctx.model_choice) +
            _backtest_section(ctx.backtest, ctx.model_choice))
    out += _training_and_inference(ctx.training, ctx.inference)
    out += _forecast_section(ctx.forecast, ctx.plot_file)
    out += ["## Artifacts", ""] + [f"- {k}: `{v}`" for k, v in ctx.artifacts.items()] + [""]
    out += ["## Warnings", ""] + ([f"- {w}" for w in ctx.warnings] or ["- none"]) + [""]
    return "\n".join(out)

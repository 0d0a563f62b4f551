"""Render the run report (SPEC §6) and the failure report as Markdown (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spline_lstm.evaluation.scoring import Evaluation

METRIC_COLUMNS = (("mase", "MASE"), ("mae", "MAE"), ("rmse", "RMSE"), ("smape", "sMAPE %"),
                  ("mape", "MAPE %"), ("r2", "R²"))


@dataclass(frozen=True)
class ReportContext:
    run_id: str
    git_commit: str
    command: str
    config: dict
    data_summary: dict
    split_summary: dict
    evaluation: Evaluation
    training: dict
    inference: dict
    artifacts: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    forecast: dict | None = None
    plot_file: str | None = None


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if not np.isfinite(value):
            return "n/a"
        return f"{value:.{digits}g}" if abs(value) >= 1e4 or abs(value) < 1e-3 else \
            f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def metrics_table(evaluation: Evaluation, model_label: str = "**model**") -> str:
    header = "| forecaster | " + " | ".join(label for _, label in METRIC_COLUMNS) + " |"
    lines = [header, "|" + "---|" * (len(METRIC_COLUMNS) + 1)]
    rows = [(model_label, evaluation.metrics)] + sorted(
        evaluation.baselines.items(), key=lambda kv: _sort_key(kv[1]["mase"]))
    for name, values in rows:
        lines.append(f"| {name} | " + " | ".join(_fmt(values.get(k)) for k, _ in METRIC_COLUMNS)
                     + " |")
    return "\n".join(lines)


def _sort_key(value: float) -> float:
    return value if np.isfinite(value) else float("inf")


def verdict(evaluation: Evaluation) -> str:
    """One plain sentence: does the model beat every baseline on MASE?"""
    model = evaluation.metrics["mase"]
    name, best = evaluation.best_baseline()
    if not np.isfinite(model):
        return "MASE is undefined for this run (no scorable test targets or zero scale)."
    if model < best:
        return (f"The model beats every baseline: MASE {_fmt(model)} vs {_fmt(best)} for the "
                f"best baseline ({name}), {100 * (1 - model / best):.1f}% lower.")
    return (f"**A baseline wins**: {name} has MASE {_fmt(best)} vs {_fmt(model)} for the model. "
            f"Use {name} for this series, or revisit the configuration.")


def render_report(ctx: ReportContext) -> str:
    ev, data, split = ctx.evaluation, ctx.data_summary, ctx.split_summary
    out = [f"# Run report — `{ctx.run_id}`", ""]
    out += ["## Verdict", "", verdict(ev), ""]
    out += ["## Run", "",
            f"- run_id: `{ctx.run_id}`",
            f"- git commit: `{ctx.git_commit}`",
            f"- model: {ctx.config.get('model')} {ctx.config.get('hidden_units')} over segments "
            f"of {ctx.config.get('segment_length')} steps, "
            f"{'window-relative' if ctx.config.get('window_relative') else 'absolute'} inputs, "
            f"lookback {ctx.config.get('lookback')}, horizon {ctx.config.get('horizon')}, "
            f"seed {ctx.config.get('seed')}",
            "", "Reproduce:", "", "```bash", ctx.command, "```", ""]
    out += ["## Data", "",
            f"- source: {data.get('source')}",
            f"- rows read: {data.get('n_rows')} ({data.get('n_missing_values', 0)} empty "
            f"target values); grid: {data.get('n_grid')} points at `{data.get('freq')}` from "
            f"{data.get('start')} to {data.get('end')}"
            f"{' (' + data['timezone'] + ')' if data.get('timezone') else ''}",
            f"- seasons: {data.get('seasons')}",
            f"- gaps filled: {data.get('n_filled', 0)} points in {data.get('n_gaps', 0)} gap(s), "
            f"longest {data.get('longest_gap', 0)} steps (method {data.get('fill_method')})",
            f"- split (points): train {split['points']['train']}, val {split['points']['val']}, "
            f"test {split['points']['test']}; windows: train {split['windows']['train']}, val "
            f"{split['windows']['val']}, test {split['windows']['test']}",
            f"- transforms (fitted on train): {data.get('transforms')}"]
    if (data.get("transforms") or {}).get("seasonal_adjustment", "none") != "none":
        out.append("- seasonal adjustment: the seasonal part of each point comes from an MSTL "
                   "decomposition of points at least one horizon earlier (refreshed every "
                   "season, every few on long series), so a forecast only adds back what "
                   "was known at its origin")
    out.append("")
    for note in data.get("notes", []):
        out.append(f"- note: {note}")
    selection = data.get("transform_selection")
    if selection:
        out += ["", f"Transform chosen on the validation split (never the test split): "
                f"**{selection['chosen']}**.", "",
                "| candidate | val MASE | best epoch | seconds | note |", "|---|---|---|---|---|"]
        out += [f"| {c['name']} | {_fmt(c['val_mase'])} | {_fmt(c['best_epoch'])} | "
                f"{_fmt(c['seconds'])} | {c['note']} |" for c in selection["candidates"]]
    out += ["", "## Test metrics (original units, observed targets only)", "",
            metrics_table(ev), "",
            f"MASE scale: in-sample seasonal-naive MAE on the train split, season {ev.season} "
            f"(= {_fmt(ev.mase_scale)}).", ""]
    if len(ev.per_step) > 1:
        out += ["Per step (model):", "", "| step | MAE | RMSE | MASE |", "|---|---|---|---|"]
        shown = ev.per_step if len(ev.per_step) <= 12 else ev.per_step[::max(1, len(ev.per_step) // 12)]
        out += [f"| {s['step']} | {_fmt(s['mae'])} | {_fmt(s['rmse'])} | {_fmt(s['mase'])} |"
                for s in shown]
        out.append("")
    tr = ctx.training
    out += ["## Training", "",
            f"- epochs: {tr.get('epochs_ran')} of {tr.get('epochs_requested')} "
            f"(best epoch {tr.get('best_epoch')}, best val_loss {_fmt(tr.get('best_val_loss'))})",
            f"- early stopped: {tr.get('early_stopped')}", ""]
    inf = ctx.inference
    out += ["## Latest inference (last test window)", "",
            f"- origin: {inf['origin']}, input shape {inf['x_shape']}",
            f"- y_true: {[_fmt(v) for v in inf['y_true_last']]}",
            f"- y_pred: {[_fmt(v) for v in inf['y_pred_last']]}", ""]
    if ctx.forecast:
        fc = ctx.forecast
        out += ["## Forecast (next steps after the last observation)", "",
                f"Origin {fc['origin']}.", "", "| timestamp | forecast |", "|---|---|"]
        out += [f"| {t} | {_fmt(v)} |" for t, v in zip(fc["timestamps"][:48], fc["values"][:48])]
        if len(fc["values"]) > 48:
            out.append(f"| … | ({len(fc['values']) - 48} more in the predictions CSV) |")
        out.append("")
    if ctx.plot_file:
        out += [f"![forecast]({ctx.plot_file})", ""]
    out += ["## Artifacts", ""] + [f"- {k}: `{v}`" for k, v in ctx.artifacts.items()] + [""]
    out += ["## Warnings", ""] + ([f"- {w}" for w in ctx.warnings] or ["- none"]) + [""]
    return "\n".join(out)


def render_failure_report(run_id: str, code: str, exit_code: int, message: str,
                          stage: str | None, stack_summary: str, rerun_command: str,
                          runbook_hint: str) -> str:
    return "\n".join([
        f"# Failed run — `{run_id}`", "",
        "## What failed", "", f"- stage: {stage or 'unknown'}",
        f"- error: `{code}` (exit {exit_code})", "",
        "## Why", "", message, "",
        "## What to do", "", runbook_hint, "",
        "## Re-run", "", "```bash", rerun_command, "```", "",
        "## Stack summary", "", "```", stack_summary.strip(), "```", "",
    ])

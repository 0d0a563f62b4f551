"""The report's "Model choice" section: what the forecast is and why, every candidate's
scores on the blocks it was chosen on and, for reference only, on the test split (pure)."""

from __future__ import annotations

from spline_lstm.reporting.format import fmt

SHOWN_CANDIDATES = 20


def choice_section(choice: dict | None) -> list[str]:
    if not choice:
        return []
    out = ["## Model choice", "", choice["reason"], ""]
    candidates = choice.get("candidates") or []
    if not candidates:
        return out
    blocks = choice["chosen_on"]
    out += [f"Chosen on the mean MASE over {', '.join(blocks)}; the test split is shown for "
            "reference and was never used to choose.", "",
            "| candidate | kind | mean MASE (choice) | " +
            " | ".join(f"MASE {b}" for b in blocks) + " | test MASE |",
            "|---|---|---|" + "---|" * len(blocks) + "---|"]
    for row in candidates[:SHOWN_CANDIDATES]:
        name = f"**{row['name']}**" if row["name"] == choice["chosen"] else row["name"]
        out.append(f"| {name} | {row['kind']} | {fmt(row['backtest_mase_mean'])} | " +
                   " | ".join(fmt(v) for v in row["backtest_mase"]) +
                   f" | {fmt(row['test_mase'])} |")
    if len(candidates) > SHOWN_CANDIDATES:
        out.append(f"| … | ({len(candidates) - SHOWN_CANDIDATES} more in the metrics JSON) |")
    return out + [""]

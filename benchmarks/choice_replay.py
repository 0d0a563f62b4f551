"""Replay of the model choice's rules against luck on kept accuracy runs.

    .venv/bin/python benchmarks/accuracy.py --data-dir DIR --keep KEPT/NAME   (once per set)
    .venv/bin/python benchmarks/choice_replay.py KEPT/NAME [KEPT/NAME ...] [--out FILE]

Every run's metrics JSON lists each candidate of the model choice with its MASE on every
block before the test split and on the test split (``model_choice.candidates``). Which
candidate a rule takes depends only on the block scores, so a rule is tried on every kept
run in seconds: this prints, per kept folder and rule, the mean over cases of the chosen
candidate's test MASE over the best classical model's (``accuracy.py``'s figure). The
first rule is the product's (``selection/families.py``); a case where its replay differs
from the run's recorded choice is listed, since the other rules are then not comparable.
A rule that would make candidates the runs did not score (new combinations) cannot be
replayed this way.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.accuracy import CLASSICAL  # noqa: E402
from spline_lstm.selection.families import (  # noqa: E402
    CHOICE_MARGIN,
    MIN_BLOCKS_FOR_SE,
    NAIVE_SE_RULE,
    NETWORK_SE_RULE,
    ModelScore,
    _unclear_advantage,
)


@dataclass(frozen=True)
class Rule:
    """How the choice guards against luck. ``naive_se`` / ``every_se``: standard errors a
    candidate holding a naive model / any candidate must beat the default by (None: not
    applied); ``every_block``: with fewer than MIN_BLOCKS_FOR_SE blocks (two), a candidate
    must beat the default in each (tried, not the product's: accuracy_fourth_draw.md)."""

    name: str
    margin: float = CHOICE_MARGIN
    network_se: float = NETWORK_SE_RULE
    naive_se: float | None = NAIVE_SE_RULE
    every_se: float | None = None
    every_block: bool = False


RULES = (
    Rule("the product's"),
    Rule("no standard-error rule against the default", naive_se=None),
    Rule("every candidate: one standard error", naive_se=None, every_se=1.0),
    Rule("naive: two standard errors", naive_se=2.0),
    Rule("margin 5 %, no standard-error rule", margin=0.05, naive_se=None),
    Rule("two blocks: both won against the default", every_block=True),
)


@dataclass(frozen=True)
class Case:
    name: str
    candidates: list[dict]  # the metrics JSON's, with finite block scores
    default: str | None
    recorded: str  # the run's own choice
    best_classical: float  # lowest test MASE of a classical model


def load_cases(folder: Path) -> list[Case]:
    """The cases of one kept folder (``accuracy.py --keep``): one per metrics JSON."""
    cases = []
    for path in sorted((folder / "metrics").glob("*.json")):
        choice = json.loads(path.read_text()).get("model_choice")
        if not choice:
            continue
        classical = [c["test_mase"] for c in choice["candidates"]
                     if c["name"] in CLASSICAL and c["test_mase"] is not None]
        if not classical:
            continue
        cases.append(Case(path.stem, [c for c in choice["candidates"]
                                      if c["backtest_mase_mean"] is not None],
                          choice["default"], choice["chosen"], min(classical)))
    return cases


def _score(candidate: dict) -> ModelScore:
    return ModelScore(candidate["name"], candidate["kind"], tuple(candidate["members"]),
                      candidate["how"], tuple(candidate["backtest_mase"]))


def _clear(against: dict, best: dict, rule_se: float) -> bool:
    """Does ``best`` beat ``against`` by more than ``rule_se`` standard errors (the
    product's test, ``families._unclear_advantage``; always, with too few blocks)?"""
    return _unclear_advantage(_score(against), _score(best), rule_se) is None


def choose(case: Case, rule: Rule) -> dict:
    """The candidate ``rule`` takes, from the block scores alone."""
    ranked = sorted(case.candidates, key=lambda c: c["backtest_mase_mean"])
    kinds = {c["name"]: c["kind"] for c in ranked if len(c["members"]) == 1}

    def holds(candidate: dict, kind: str) -> bool:
        return any(kinds.get(m) == kind for m in candidate["members"])

    best = ranked[0]
    if holds(best, "lstm"):
        without = next((c for c in ranked if not holds(c, "lstm")), None)
        if without is not None and not _clear(without, best, rule.network_se):
            best = without
    default = next((c for c in ranked if c["name"] == case.default), None)
    if default is None or best is default:
        return best
    if best["backtest_mase_mean"] >= default["backtest_mase_mean"] * (1 - rule.margin):
        return default
    if rule.every_block and 2 <= len(best["backtest_mase"]) < MIN_BLOCKS_FOR_SE:
        won = all(b < a for a, b in zip(default["backtest_mase"], best["backtest_mase"]))
        return best if won else default
    for applies, rule_se in ((holds(best, "naive"), rule.naive_se), (True, rule.every_se)):
        if applies and rule_se is not None and not _clear(default, best, rule_se):
            return default
    return best


def replay(folders: list[Path], rules=RULES) -> str:
    sets = {folder.name: load_cases(folder) for folder in folders}
    lines = ["| rule | " + " | ".join(f"{name} ({len(cases)})" for name, cases in sets.items())
             + " | all |", "|---" * (len(sets) + 2) + "|"]
    for rule in rules:
        ratios = {name: [choose(c, rule)["test_mase"] / c.best_classical for c in cases]
                  for name, cases in sets.items()}
        every = [r for values in ratios.values() for r in values]
        lines.append(f"| {rule.name} | " + " | ".join(
            f"{np.mean(v):.3f}" if v else "-" for v in ratios.values()) +
            f" | {np.mean(every):.3f} |")
    differ = [f"{name}/{c.name}: replayed {choose(c, rules[0])['name']}, ran {c.recorded}"
              for name, cases in sets.items() for c in cases
              if choose(c, rules[0])["name"] != c.recorded]
    lines += ["", "Forecast test MASE / best classical, mean over cases (lower is better)."]
    lines += ["Replay of the product's rule differs from the runs' choices: " +
              "; ".join(differ) if differ else
              "The product's rule replays every run's own choice."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="See the module docstring.")
    parser.add_argument("kept", type=Path, nargs="+",
                        help="folders written by accuracy.py --keep (one per set)")
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    missing = [str(f) for f in args.kept if not (f / "metrics").is_dir()]
    if missing:
        parser.error(f"no metrics/ folder in {', '.join(missing)}: give folders written by "
                     "benchmarks/accuracy.py --keep")
    text = replay(args.kept)
    print(text, end="")
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

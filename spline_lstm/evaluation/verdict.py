"""The verdict of a run: does the model beat every baseline on test MASE?

Decided once, right after scoring, and recorded in the metrics JSON; the report, the
warnings and the success line read the record and never decide again.
"""

from __future__ import annotations

import numpy as np

from contracts.records import Verdict
from spline_lstm.evaluation.scoring import Evaluation


def decide(evaluation: Evaluation, chosen: str | None = None) -> Verdict:
    """``chosen``: the baseline the run's forecast is, if it is one (not compared with
    itself)."""
    model = evaluation.metrics["mase"]
    name, best = evaluation.best_baseline(exclude=chosen)
    return Verdict(model_mase=_finite(model), best_baseline=name,
                   best_baseline_mase=_finite(best),
                   beats_baselines=bool(np.isfinite(model) and model < best))


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None

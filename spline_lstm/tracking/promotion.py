"""The promotion policy: when a candidate replaces the champion.

The candidate and the champion are scored side by side on the candidate's test span (the
newest data, which the candidate never trained on), on the same origins and the same MASE
scale, with seasonal naive beside them. The candidate becomes champion when

* it beats seasonal naive on that span (a model that does not is no model), and
* there is no champion yet, or its MASE is at least ``MARGIN`` (2 %) below the champion's:
  a retrain that is merely as good keeps the model in service, so scheduled retrains do not
  churn the champion on noise.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

MARGIN = 0.02


@dataclass(frozen=True)
class Scores:
    """MASE of each contender on the candidate's test span."""

    candidate: float
    seasonal_naive: float
    champion: float | None = None
    span: tuple[str, str] = ("", "")
    origins: int = 0
    champion_trained_on_span: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str
    scores: Scores


def decide(scores: Scores, margin: float = MARGIN) -> Decision:
    """Promote or hold, with the reason in a sentence."""
    cand, naive, champ = scores.candidate, scores.seasonal_naive, scores.champion
    if not math.isfinite(cand):
        return Decision(False, "the candidate has no finite MASE on its test span", scores)
    if math.isfinite(naive) and cand >= naive:
        return Decision(False, f"the candidate (MASE {cand:.4f}) does not beat seasonal naive "
                               f"({naive:.4f}) on its test span", scores)
    if champ is None:
        return Decision(True, f"first champion: MASE {cand:.4f}, seasonal naive {naive:.4f}",
                        scores)
    if not math.isfinite(champ) or cand <= (1.0 - margin) * champ:
        return Decision(True, f"the candidate (MASE {cand:.4f}) beats the champion "
                              f"({champ:.4f}) by more than {margin:.0%} on the candidate's "
                              f"test span", scores)
    return Decision(False, f"the candidate (MASE {cand:.4f}) is not better than the champion "
                           f"({champ:.4f}) by {margin:.0%} on its test span", scores)


def score_side_by_side(candidate, champion=None) -> Scores:
    """Both runs' forecasts (``RunModel``) at the candidate's test origins."""
    from spline_lstm.evaluation.scoring import evaluate_split
    from spline_lstm.models.naive import NaiveForecaster

    data = candidate.data
    origins = data.origins["test"]
    contenders = {"seasonal_naive": NaiveForecaster("seasonal_naive").predict(data, origins)}
    trained_on_span = False
    if champion is not None:
        if champion.horizon != candidate.horizon:
            from contracts.errors import InvalidArgumentError

            raise InvalidArgumentError(
                f"the champion forecasts {champion.horizon} steps, the candidate "
                f"{candidate.horizon}: they cannot be compared; promote with --force "
                "--reason \"...\" if the horizon change is intended")
        contenders["champion"] = champion.predict_on(data, origins)
        champion_data = champion.data
        trained_end = champion_data.timestamps[champion_data.bounds.val_end - 1]
        trained_on_span = bool(trained_end >= data.timestamps[int(origins[0]) + 1])
    evaluation = evaluate_split(data, candidate.forecaster.predict(data, origins),
                                baselines=contenders)
    mase = {name: float(values["mase"]) for name, values in evaluation.baselines.items()}
    first, last = int(origins[0]) + 1, min(int(origins[-1]) + candidate.horizon,
                                           len(data.timestamps) - 1)
    return Scores(candidate=float(evaluation.metrics["mase"]),
                  seasonal_naive=mase["seasonal_naive"], champion=mase.get("champion"),
                  span=(str(data.timestamps[first]), str(data.timestamps[last])),
                  origins=int(np.asarray(origins).size),
                  champion_trained_on_span=trained_on_span)

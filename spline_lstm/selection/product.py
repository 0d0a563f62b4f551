"""The run's forecaster: chosen across families, built as one Forecaster, with the blocks
that calibrate its intervals.

The network is always trained (its checkpoints are part of every run, and the report
shows it alone); whether it is the product's forecast is decided on the blocks before
the test split (``families.choose_model``). A chosen baseline is the one already fitted
on train + validation for the test split; a combination combines those fitted members.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spline_lstm.evaluation.backtest import FoldResult
from spline_lstm.evaluation.baselines import (
    BaselineRun,
    baseline_forecasters,
    run_baselines,
)
from spline_lstm.evaluation.scoring import evaluate_split, score
from spline_lstm.models.base import Forecaster
from spline_lstm.models.combination import CombinationForecaster
from spline_lstm.selection.families import (
    Block,
    ModelChoice,
    choose_model,
    cross_fitted_forecasts,
)
from spline_lstm.windows.folds import window_label


@dataclass(frozen=True)
class Product:
    forecaster: Forecaster
    test_forecast: np.ndarray = field(repr=False)  # [N, H] original units
    choice: ModelChoice | None  # None: only the network was allowed
    # (y_true, y_pred, scored) per block, y_pred by the candidate chosen on the other
    # blocks: out-of-sample errors that include the choice's own uncertainty
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(repr=False)
    model_choice: dict = field(default_factory=dict)  # the metrics JSON section
    network_name: str = ""  # the run's network (other lstm-family candidates are not it)

    @property
    def is_network(self) -> bool:
        """Is the product the run's trained network itself (its checkpoints)?"""
        return self.choice is None or (self.choice.chosen.kind == "lstm" and
                                       self.choice.chosen.name == self.network_name)

    @property
    def baseline_name(self) -> str | None:
        """The baseline the product is, if it is one (the verdict does not compare it with
        itself)."""
        chosen = self.choice.chosen if self.choice else None
        return chosen.name if chosen and chosen.kind in ("classical", "naive") else None


def fold_blocks(folds: list[FoldResult], network: str) -> list[Block]:
    return [Block(label=window_label(r.fold.index), y_true=r.y_true, scored=r.scored,
                  mase_scale=r.mase_scale, forecasts={network: r.y_pred, **r.forecasts})
            for r in folds]


def validation_block(data, network: Forecaster, classical: bool,
                     others: list[Forecaster] = ()) -> Block:
    """The fallback when no backtest window fits: every candidate fitted on the train split
    and scored on the validation split (the network early-stopped on it: a little in its
    favour)."""
    val = data.origins["val"]
    baselines = run_baselines(data, baseline_forecasters(data.preprocessor.seasons, val,
                                                         classical=classical,
                                                         exogenous=data.n_future > 0),
                              val, fit_end=data.bounds.train_end)
    forecasts = {**baselines.forecasts, **{f.name: f.predict(data, val) for f in others}}
    evaluation = evaluate_split(data, network.predict(data, val), split="val",
                                baselines=forecasts)
    return Block(label="validation split", y_true=evaluation.y_true, scored=evaluation.scored,
                 mase_scale=evaluation.mase_scale,
                 forecasts={network.name: evaluation.y_pred, **baselines.forecasts})


def network_only(network: Forecaster, network_test: np.ndarray) -> Product:
    return Product(network, network_test, None, [],
                   {"chosen": network.name, "kind": "lstm", "members": [network.name],
                    "reason": f"The forecast is {network.name} (the network): --candidates "
                              "lstm allows nothing else."})


def choose_product(data, network: Forecaster, network_test: np.ndarray,
                   baselines: BaselineRun, blocks: list[Block],
                   families: tuple[str, ...],
                   networks: dict[str, tuple[Forecaster, np.ndarray]] | None = None
                   ) -> Product:
    """Choose on ``blocks``, build the chosen forecaster and its test forecasts.

    networks: more fitted networks (name -> (forecaster, test forecasts)), candidates of
    the lstm family, e.g. the network without covariates.
    """
    networks = networks or {}
    kinds = {network.name: "lstm", **{name: "lstm" for name in networks},
             **{name: kind for name, kind in baselines.kinds().items()
                if name in baselines.forecasts}}
    choice = choose_model(blocks, kinds, families)
    test = {network.name: network_test, **{n: t for n, (_, t) in networks.items()},
            **baselines.forecasts}
    fitted = {network.name: network, **{n: f for n, (f, _) in networks.items()},
              **baselines.fitted}
    chosen = choice.chosen
    if chosen.kind == "combination":
        forecaster: Forecaster = CombinationForecaster(
            chosen.name, [fitted[m] for m in chosen.members], chosen.how or "mean")
    else:
        forecaster = fitted[chosen.name]
    test_mase = {s.name: score(data, s.forecast(test))["mase"] for s in choice.scores
                 if all(m in test for m in s.members)}
    section = choice.to_dict(test_mase)
    section["network"] = network.name
    section["network_test_metrics"] = score(data, network_test)
    held_out = cross_fitted_forecasts(blocks, kinds, families, choice)
    return Product(forecaster, chosen.forecast(test), choice,
                   [(b.y_true, y_pred, b.scored) for b, y_pred in zip(blocks, held_out)],
                   section, network_name=network.name)

"""Choose the target transform on the validation split, never the test split.

Candidates (when left on auto): no seasonal difference, one per usable season, and a
rolling MSTL seasonal adjustment (spline_lstm/seasonal_adjust.py), each without and, for
series that look multiplicative, with a log transform. Every candidate is fitted on
train exactly as the final model would be (same settings, same seed), scored by MASE on
the validation split in original units, and the winner's trained model is kept, so the
winner is not trained twice.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
from scipy.stats import spearmanr

from contracts.config import RunConfig
from contracts.errors import InsufficientDataError, InvalidArgumentError
from spline_lstm.models.classical import SHORT_SEASON
from spline_lstm.evaluation.scoring import evaluate_split
from spline_lstm.models.fitting import fit_forecaster
from spline_lstm.models.prediction import predict_split
from spline_lstm.data.frequency import usable_seasons
from spline_lstm.data.interpolate import FilledSeries
from spline_lstm.models.network import ModelSpec, load_checkpoint
from spline_lstm.windows.preprocess import PreprocessSettings, ProcessedData, preprocess
from spline_lstm.models.training import TrainResult
from spline_lstm.transforms.power import transform_name

MULTIPLICATIVE_RANK_CORRELATION = 0.6
MULTIPLICATIVE_LEVEL_RATIO = 1.3


@dataclass(frozen=True)
class TransformChoice:
    power: str = "none"
    difference: int = 0
    seasonal_difference: int = 0
    seasonal_adjust: bool = False

    @property
    def name(self) -> str:
        return transform_name(self.power, self.difference, self.seasonal_difference,
                              self.seasonal_adjust)

    def apply_to(self, settings: PreprocessSettings) -> PreprocessSettings:
        return replace(settings, power=self.power, difference=self.difference,
                       seasonal_difference=self.seasonal_difference,
                       seasonal_adjust=self.seasonal_adjust)


@dataclass(frozen=True)
class CandidateFit:
    choice: TransformChoice
    val_mase: float
    training: TrainResult | None
    spec: ModelSpec | None
    best_path: Path | None
    last_path: Path | None
    seconds: float
    note: str = ""

    def summary(self) -> dict:
        return {"name": self.choice.name, "power": self.choice.power,
                "difference": self.choice.difference,
                "seasonal_difference": self.choice.seasonal_difference,
                "seasonal_adjust": self.choice.seasonal_adjust,
                "val_mase": self.val_mase if np.isfinite(self.val_mase) else None,
                "best_epoch": self.training.best_epoch if self.training else None,
                "epochs_ran": self.training.epochs_ran if self.training else None,
                "seconds": round(self.seconds, 1), "note": self.note}


@dataclass(frozen=True)
class Selection:
    winner: CandidateFit
    candidates: list[CandidateFit] = field(default_factory=list)

    def summary(self) -> dict:
        return {"criterion": "MASE on the validation split, original units",
                "chosen": self.winner.choice.name,
                "candidates": [c.summary() for c in self.candidates]}


def looks_multiplicative(train: np.ndarray, season: int) -> bool:
    """True when, cycle by cycle, the spread grows with the level (and the level moves)."""
    if season <= 1 or len(train) < 3 * season or np.min(train) <= 0:
        return False
    cycles = np.asarray(train[:len(train) // season * season]).reshape(-1, season)
    level, spread = cycles.mean(axis=1), cycles.std(axis=1)
    rho = spearmanr(level, spread).statistic
    moves = level.max() / level.min() >= MULTIPLICATIVE_LEVEL_RATIO
    return bool(np.isfinite(rho) and rho >= MULTIPLICATIVE_RANK_CORRELATION and moves)


def transform_candidates(config: RunConfig, train: np.ndarray, seasons: list[int]) -> list[TransformChoice]:
    """The transforms to compare; a single one when the config fixes every choice.

    On auto, the seasonal adjustment joins the candidates only while the seasonal
    difference is on auto too (fixing ``--seasonal-difference`` is taken as the choice),
    and only for a season longer than ``SHORT_SEASON``: the same line the classical
    baselines draw between seasonal ETS/ARIMA and MSTL. Short seasons come with short
    series, whose validation split holds a handful of windows: on monthly air passengers
    at H=12 the adjustment won on 3 validation windows and then lost to seasonal
    differencing on the test split (MASE 1.02 vs 0.77).
    """
    usable = [m for m in usable_seasons(seasons, len(train)) if m > 1]
    if config.seasonal_difference is None:
        lags = [0] + usable
    else:
        lags = [config.seasonal_difference]
    if config.power == "auto":
        powers = ["none"] + (["log"] if usable and looks_multiplicative(train, usable[0]) else [])
    else:
        powers = [config.power]
    plain = [TransformChoice(power=p, difference=config.difference, seasonal_difference=m)
             for p in powers for m in lags]
    adjusted = [TransformChoice(power=p, difference=config.difference,
                                seasonal_difference=config.seasonal_difference or 0,
                                seasonal_adjust=True) for p in powers]
    if config.seasonal_adjust == "mstl":
        return adjusted
    if (config.seasonal_adjust == "auto" and usable and max(usable) > SHORT_SEASON
            and config.seasonal_difference is None):
        return plain + adjusted
    return plain


def selection_workers(n_candidates: int) -> int:
    """Threads that train candidates side by side: one per usable CPU, at most one each.

    A small recurrent net keeps about one core busy (Keras steps through its batches one
    at a time), so on 2 cores two candidates train in about the time of one.
    """
    usable = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")  # Linux
              else os.cpu_count() or 1)
    return max(1, min(n_candidates, usable))


def select_transform(filled: FilledSeries, settings: PreprocessSettings, config: RunConfig,
                     candidates: list[TransformChoice], scratch: Path, *, run_id: str,
                     freq: str, data_summary: dict,
                     log: Callable[[str], None] = lambda _m: None,
                     workers: int | None = None) -> Selection:
    """Fit every candidate and keep the one with the lowest validation MASE.

    Candidates train in ``workers`` threads (default: ``selection_workers``). Each seeds
    and builds its model under a lock and its training uses no shared random state, so
    the scores, and the winner, do not depend on the number of threads.
    """
    def prepare(choice: TransformChoice) -> ProcessedData | CandidateFit:
        try:
            return preprocess(filled, choice.apply_to(settings), run_id=run_id, freq=freq,
                              interpolation=filled.summary, data_summary=data_summary)
        except (InsufficientDataError, InvalidArgumentError) as exc:
            return CandidateFit(choice, float("nan"), None, None, None, None, 0.0,
                                note=f"skipped: {exc.message}")

    def fit(choice: TransformChoice, data: ProcessedData | CandidateFit | None) -> CandidateFit:
        start = time.perf_counter()
        data = prepare(choice) if data is None else data
        if isinstance(data, CandidateFit):
            return data
        if reference_origins is not None and not np.array_equal(data.origins["val"],
                                                                reference_origins):
            return CandidateFit(choice, float("nan"), None, None, None, None, 0.0,
                                note="skipped: its differencing lags leave fewer "
                                     "validation windows, so scores would not compare")
        folder = scratch / choice.name
        best, last = folder / "best.keras", folder / "last.keras"
        training, spec = fit_forecaster(data, config, best, last)
        return CandidateFit(choice, _val_mase(data, best), training, spec, best, last,
                            time.perf_counter() - start)

    # The first candidate that preprocesses sets the validation windows every score uses.
    prepared: dict[int, ProcessedData | CandidateFit] = {}
    reference_origins = None
    for i, choice in enumerate(candidates):
        prepared[i] = prepare(choice)
        if isinstance(prepared[i], ProcessedData):
            reference_origins = prepared[i].origins["val"]
            break
    fits: list[CandidateFit | None] = [None] * len(candidates)
    pool = ThreadPoolExecutor(workers or selection_workers(len(candidates)),
                              thread_name_prefix="candidate")
    try:
        futures = {pool.submit(fit, choice, prepared.pop(i, None)): i
                   for i, choice in enumerate(candidates)}
        for future in as_completed(futures):
            done = fits[futures[future]] = future.result()
            if done.training is not None:
                log(f"candidate {done.choice.name}: val MASE {done.val_mase:.4f} (best epoch "
                    f"{done.training.best_epoch}/{done.training.epochs_ran}, "
                    f"{done.seconds:.1f}s)")
    finally:  # a failed candidate stops the ones not yet started
        pool.shutdown(wait=True, cancel_futures=True)
    scored = [f for f in fits if f.training is not None and np.isfinite(f.val_mase)]
    if not scored:
        notes = "; ".join(f"{f.choice.name}: {f.note or 'no finite validation score'}"
                          for f in fits)
        raise InsufficientDataError(f"no transform candidate could be fitted ({notes})")
    winner = min(scored, key=lambda f: f.val_mase)
    return Selection(winner=winner, candidates=fits)


def _val_mase(data: ProcessedData, best_path: Path) -> float:
    model = load_checkpoint(best_path)
    return float(evaluate_split(data, predict_split(model, data, "val"), split="val")
                 .metrics["mase"])

"""Choose among candidates on the validation split, never the test split.

A candidate is a target transform and a forecaster. Every candidate is preprocessed and
fitted on train exactly as the final model would be (same settings, same seed), scored
by MASE on the validation split in original units, and the winner is kept fitted, with
its processed data, so it is not trained twice. Candidates go through the Forecaster
interface only: an LSTM and a statsforecast model are compared the same way.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from contracts.errors import InsufficientDataError, InvalidArgumentError, PipelineError
from contracts.records import CandidateSummary, DataSummary, SelectionSummary
from spline_lstm.cancel import raise_if_stop_requested
from spline_lstm.data.interpolate import FilledSeries
from spline_lstm.evaluation.scoring import score
from spline_lstm.models.base import Forecaster
from spline_lstm.transforms.chain import TransformSpec
from spline_lstm.windows.preprocess import PreprocessSettings, preprocess
from spline_lstm.windows.processed import ProcessedData


@dataclass(frozen=True)
class Candidate:
    """A transform and how to make an unfitted forecaster working in a given folder."""

    transform: TransformSpec
    make_forecaster: Callable[[Path], Forecaster]
    forecaster: str = "lstm"  # its name, for reports and folders

    @property
    def name(self) -> str:
        return self.transform.name


@dataclass(frozen=True)
class CandidateFit:
    candidate: Candidate
    val_mase: float
    forecaster: Forecaster | None = None
    data: ProcessedData | None = None  # kept for the winner only
    seconds: float = 0.0
    note: str = ""
    error: PipelineError | None = None  # why it could not be prepared

    @property
    def fitted(self) -> bool:
        return self.forecaster is not None and np.isfinite(self.val_mase)

    def summary(self) -> CandidateSummary:
        spec, training = self.candidate.transform, getattr(self.forecaster, "training", None)
        return CandidateSummary(
            name=self.candidate.name, forecaster=self.candidate.forecaster, power=spec.power,
            difference=spec.difference, seasonal_difference=spec.seasonal_difference,
            seasonal_adjust=spec.seasonal_adjust,
            val_mase=float(self.val_mase) if np.isfinite(self.val_mase) else None,
            best_epoch=training.best_epoch if training else None,
            epochs_ran=training.epochs_ran if training else None,
            seconds=round(self.seconds, 1), note=self.note)


@dataclass(frozen=True)
class Selection:
    winner: CandidateFit
    candidates: list[CandidateFit] = field(default_factory=list)

    def summary(self) -> SelectionSummary:
        return SelectionSummary(chosen=self.winner.candidate.name,
                                candidates=[c.summary() for c in self.candidates])


def selection_workers(n_candidates: int) -> int:
    """Threads that train candidates side by side: one per usable CPU, at most one each.

    A small recurrent net keeps about one core busy (Keras steps through its batches one
    at a time), so on 2 cores two candidates train in about the time of one.
    """
    usable = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")  # Linux
              else os.cpu_count() or 1)
    return max(1, min(n_candidates, usable))


def select(filled: FilledSeries, settings: PreprocessSettings, candidates: list[Candidate],
           scratch: Path, *, run_id: str, data_summary: DataSummary,
           log: Callable[[str], None] = lambda _m: None, workers: int | None = None) -> Selection:
    """Fit every candidate and keep the one with the lowest validation MASE.

    Candidates train in ``workers`` threads (default: ``selection_workers``). Each seeds
    and builds its model under a lock and its training uses no shared random state, so
    the scores, and the winner, do not depend on the number of threads. The first
    candidate that preprocesses sets the validation windows every score uses.
    """
    def prepare(candidate: Candidate) -> ProcessedData | CandidateFit:
        try:
            return preprocess(filled, settings.with_transform(candidate.transform),
                              run_id=run_id, data_summary=data_summary)
        except (InsufficientDataError, InvalidArgumentError) as exc:
            return CandidateFit(candidate, float("nan"), note=f"skipped: {exc.message}",
                                error=exc)

    prepared: dict[int, ProcessedData | CandidateFit] = {}
    reference = None
    for i, candidate in enumerate(candidates):
        prepared[i] = prepare(candidate)
        if isinstance(prepared[i], ProcessedData):
            reference = prepared[i].origins["val"]
            break

    def fit(i: int, candidate: Candidate) -> CandidateFit:
        raise_if_stop_requested()
        start = time.perf_counter()
        data = prepared.pop(i, None) or prepare(candidate)
        if isinstance(data, CandidateFit):
            return data
        if not np.array_equal(data.origins["val"], reference):
            return CandidateFit(candidate, float("nan"),
                                note="skipped: its differencing lags leave fewer validation "
                                     "windows, so scores would not compare")
        folder = scratch / f"{candidate.forecaster}.{candidate.name}"
        forecaster = candidate.make_forecaster(folder).fit(data)
        val_mase = score(data, forecaster.predict(data, data.origins["val"]), "val")["mase"]
        return CandidateFit(candidate, val_mase, forecaster, data, time.perf_counter() - start)

    fits = _fit_all(candidates, fit, workers or selection_workers(len(candidates)), log)
    scored = [f for f in fits if f.fitted]
    if not scored:
        raise _nothing_fitted(fits)
    winner = min(scored, key=lambda f: f.val_mase)
    # Only the winner's processed data is needed from here on: the others are freed.
    fits = [f if f is winner else CandidateFit(f.candidate, f.val_mase, f.forecaster, None,
                                               f.seconds, f.note) for f in fits]
    return Selection(winner=winner, candidates=fits)


def _nothing_fitted(fits: list[CandidateFit]) -> PipelineError:
    """The error of a selection without a winner: the candidates' own when they all failed
    the same way (a flag that cannot apply is 20, not "too little data"), else 26."""
    errors = [f.error for f in fits]
    if errors and all(e is not None and type(e) is type(errors[0]) for e in errors):
        first = errors[0]
        others = f" (and the same for {len(errors) - 1} other candidate(s))" if len(errors) > 1 \
            else ""
        return type(first)(first.message + others)
    notes = "; ".join(f"{f.candidate.name}: {f.note or 'no finite validation score'}"
                      for f in fits)
    return InsufficientDataError(f"no candidate could be fitted ({notes})")


def _fit_all(candidates: list[Candidate], fit, workers: int,
             log: Callable[[str], None]) -> list[CandidateFit]:
    """Run ``fit`` over the candidates in a thread pool; results in candidate order."""
    fits: list[CandidateFit | None] = [None] * len(candidates)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="candidate")
    try:
        futures = {pool.submit(fit, i, c): i for i, c in enumerate(candidates)}
        for future in as_completed(futures):
            done = fits[futures[future]] = future.result()
            if done.fitted:
                training = getattr(done.forecaster, "training", None)
                epochs = (f", best epoch {training.best_epoch}/{training.epochs_ran}"
                          if training else "")
                log(f"candidate {done.candidate.forecaster} {done.candidate.name}: val MASE "
                    f"{done.val_mase:.4f}{epochs} ({done.seconds:.1f}s)")
    finally:  # a failed candidate stops the ones not yet started
        pool.shutdown(wait=True, cancel_futures=True)
    return fits

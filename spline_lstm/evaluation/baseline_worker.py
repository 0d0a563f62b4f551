"""Baselines fitted in a child process while the network trains (``spline_lstm.job_process``).

The network's training holds the interpreter lock most of the time, and so do
statsforecast's fits and forecasts: in one process they take turns. The baselines read
nothing the network makes — the series in original units, its split, its seasons and the
horizon — so a child process fits them at the same time, at a lower priority.

``run_baselines_soon(...)`` sends a job there (when the command allowed children) and
returns at once; ``.result()`` is the same ``BaselineRun`` that ``run_baselines`` returns
in this process. A job is known by a key of everything it reads, so a job sent early on
a guess (``prefetch``: the test split's baselines, sent before the transform is chosen) is
used only if the real call asks for exactly the same thing. If the child fails, the job
runs here.

Runs with covariates keep their baselines in this process (the exogenous models read
the model-space columns), and so do series too long to be worth copying.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np

from spline_lstm import job_process
from spline_lstm.evaluation.baselines import BaselineRun, run_baselines
from spline_lstm.models.base import Forecaster
from spline_lstm.windows.split import SplitBounds

MAX_POINTS = 1_000_000  # longer series are copied at a cost the overlap does not repay
CHILD = "baselines"
NICE = 10  # spare cycles first: on co2 H=52 a run took 35 s at 10, 37 s at 0 or 19


@dataclass(frozen=True)
class SeriesShape:
    """The part of a ``Preprocessor`` the baselines read."""

    horizon: int
    seasons: list[int]

    @property
    def season(self) -> int:
        return self.seasons[0]


@dataclass(frozen=True)
class BaselineInputs:
    """The part of a ``ProcessedData`` the baselines read: a series without covariates."""

    values: np.ndarray  # float64 [n], original units, gaps filled
    bounds: SplitBounds
    preprocessor: SeriesShape
    n_future: int = 0

    @classmethod
    def of(cls, data) -> "BaselineInputs":
        pre = data.preprocessor
        return cls(np.asarray(data.values), data.bounds,
                   SeriesShape(int(pre.horizon), [int(m) for m in pre.seasons]))


@dataclass(frozen=True)
class BaselineJob:
    inputs: BaselineInputs
    forecasters: list[Forecaster]
    origins: np.ndarray
    fit_end: int
    levels: list[float] | None = None
    key: str = field(init=False, default="")

    def __post_init__(self) -> None:
        digest = hashlib.sha256()
        for array in (self.inputs.values, self.origins):
            array = np.ascontiguousarray(array)
            digest.update(f"{array.dtype}{array.shape}".encode())
            digest.update(array.tobytes())
        digest.update(json.dumps([
            self.inputs.bounds.__dict__, self.inputs.preprocessor.horizon,
            self.inputs.preprocessor.seasons, int(self.fit_end),
            [float(level) for level in self.levels or []],
            [f.describe() for f in self.forecasters]], sort_keys=True, default=str).encode())
        object.__setattr__(self, "key", digest.hexdigest())

    def run(self) -> BaselineRun:
        return run_baselines(self.inputs, self.forecasters, self.origins, self.fit_end,
                             self.levels)


def eligible(data) -> bool:
    """Can the baselines of ``data`` (processed, or the filled series) run in the child?
    (No covariates; not a huge series.)"""
    return (not getattr(data, "covariates", ()) and not getattr(data, "n_future", 0)
            and len(data.values) <= MAX_POINTS)


class Pending:
    """A ``BaselineRun`` on its way: from the child, or computed here on ``result()``."""

    def __init__(self, compute: Callable[[], BaselineRun], future=None) -> None:
        self.compute, self.future = compute, future

    def result(self) -> BaselineRun:
        return job_process.result_or(self.future, self.compute)

    @property
    def from_child(self) -> bool:
        """Did (or will) the result come from the child process?"""
        return job_process.succeeded(self.future)


def run_baselines_soon(data, forecasters: list[Forecaster], origins: np.ndarray,
                       fit_end: int, levels: list[float] | None = None, *,
                       start: bool = True) -> Pending:
    """``run_baselines(data, ...)``, in the child process when there is one (``start``
    False: only if it runs already; a caller that waits for the result at once gains
    nothing from a child that must first start and import statsforecast)."""
    compute = partial(run_baselines, data, forecasters, origins, fit_end, levels)
    if not (job_process.is_allowed() and eligible(data)
            and any(f.family == "classical" for f in forecasters)):  # else not worth it
        return Pending(compute)
    job = BaselineJob(BaselineInputs.of(data), list(forecasters), np.asarray(origins),
                      int(fit_end), list(levels) if levels else None)
    return Pending(compute, _submit(job, start))


def prefetch(job: BaselineJob) -> None:
    """Send ``job`` now, on a guess: a later ``run_baselines_soon`` with the same key
    takes its result."""
    _submit(job)


def _submit(job: BaselineJob, start: bool = True):
    return job_process.submit(CHILD, job.key, job, setup=f"{__name__}:prepare_child",
                              nice=NICE, start=start)


def prepare_child() -> None:
    """In the child: import statsforecast while the flow starts, without dask's frames
    (statsforecast's helpers take them when dask imports: 0.4 s; none come here)."""
    sys.modules.setdefault("dask.dataframe", None)  # type: ignore[arg-type]
    from statsforecast.models import AutoARIMA  # noqa: F401

"""The columns the model reads: the target plus covariates, each encoded on train only.

The target column goes through the transform chain (its last step is the target's
scaler). Covariates are encoded by kind: numeric ones scaled by their own scaler fitted
on the train split (and, when the validation split already lies beyond the train split's
range, read by the network relative to each window's origin; see ``CovariateEncoder``),
booleans as 0/1, categorical ones one-hot over the categories the
train split holds (a category it does not hold, possible inside a backtest fold, is a
row of zeros). Column order: the target, past-observed covariates, then covariates
known in advance, so those form the last ``n_future`` columns (the network's future
input reads them over the horizon).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from contracts.errors import InputSchemaError
from spline_lstm.transforms.scaling import Scaler

TARGET_FEATURE = "target"


def leaves_training_range(train: np.ndarray, val: np.ndarray) -> bool:
    """Does most of the validation split lie outside the train split's range?

    Then the covariate trends (income, output, a price level): the test split and the
    forecast will feed the network levels it never saw, and its scaled level says little.
    The network reads such a covariate relative to each window's origin instead, as it
    reads the target: changes, which carry over to new levels. A covariate whose level
    matters and recurs (a temperature) stays as it is.
    """
    train, val = train[np.isfinite(train)], val[np.isfinite(val)]
    if not len(train) or not len(val):
        return False
    middle = float(np.median(val))
    return bool(middle < train.min() or middle > train.max())


@dataclass(frozen=True)
class CovariateEncoder:
    """How one covariate becomes model-space columns (fitted on the train split)."""

    name: str
    kind: str = "numeric"  # numeric | boolean | categorical
    known_in_advance: bool = False
    scaler: Scaler | None = None  # numeric only
    categories: tuple[int, ...] = ()  # categorical: codes seen in train, one column each
    labels: tuple[str, ...] = ()  # categorical: every label the input holds (codes index it)
    relative: bool = False  # numeric: the network reads it relative to the window's origin
    silent: bool = False  # numeric, constant over a backtest fold's train span: read as 0

    @property
    def columns(self) -> list[str]:
        if self.kind == "categorical":
            return [f"{self.name}={self.labels[c]}" for c in self.categories]
        return [self.name]

    @classmethod
    def fit(cls, covariate, train_end: int, scaling: str, val_end: int | None = None,
            may_be_constant: bool = False, relative: bool | None = None
            ) -> "CovariateEncoder":
        """``may_be_constant``: inside a backtest fold, whose train span is shorter than the
        run's, a numeric covariate may not vary yet (a price introduced later): there it
        carries nothing and is read as zeros, as an unseen category is, instead of failing
        a run whose own train split is fine (25 there). ``relative``: whether the network
        reads it relative to the window's origin, as the run decided (a fold); None:
        decide here, from the validation split."""
        train = covariate.values[:train_end]
        if covariate.kind == "numeric":
            val = covariate.values[train_end:val_end] if val_end else train[:0]
            try:
                scaler = Scaler.fit(train, scaling, column=f"covariate {covariate.name!r}",
                                    remedy="leave it out of the covariate spec (or "
                                    "--covariates)")
            except InputSchemaError:  # constant over ``train``: nothing a scaler can use
                if not may_be_constant:
                    raise
                return cls(covariate.name, "numeric", covariate.known_in_advance, silent=True)
            if relative is None:
                relative = leaves_training_range(train, val)
            return cls(covariate.name, "numeric", covariate.known_in_advance, scaler,
                       relative=relative)
        if covariate.kind == "boolean":
            return cls(covariate.name, "boolean", covariate.known_in_advance)
        seen = tuple(int(c) for c in np.unique(train[~np.isnan(train)]))
        return cls(covariate.name, "categorical", covariate.known_in_advance,
                   categories=seen, labels=tuple(covariate.labels))

    def encode(self, values: np.ndarray, labels: tuple[str, ...] | None = None
               ) -> list[np.ndarray]:
        """float64 columns [n] of ``values`` (the covariate on the grid); categorical codes
        index ``labels`` (default: this encoder's), e.g. another run's."""
        values = np.asarray(values, dtype=np.float64)
        if self.kind == "categorical" and labels is not None and tuple(labels) != self.labels:
            values = self._recode(values, tuple(labels))
        if self.kind == "numeric":
            return [np.zeros_like(values) if self.silent else self.scaler.apply(values)]
        if self.kind == "boolean":
            return [values]
        return [(values == c).astype(np.float64) for c in self.categories]

    def _recode(self, codes: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
        """Codes into ``labels`` as codes into this encoder's labels (-1: unknown here)."""
        mapping = np.array([self.labels.index(x) if x in self.labels else -1 for x in labels]
                           + [-1], dtype=np.float64)
        index = np.where(np.isnan(codes), len(labels), codes).astype(np.int64)
        return mapping[index]

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "known_in_advance": self.known_in_advance,
                "scaler": self.scaler.to_dict() if self.scaler else None,
                "categories": list(self.categories), "labels": list(self.labels),
                "relative": self.relative, "silent": self.silent}

    @classmethod
    def from_dict(cls, payload: dict) -> "CovariateEncoder":
        return cls(payload["name"], payload["kind"], bool(payload["known_in_advance"]),
                   Scaler.from_dict(payload["scaler"]) if payload.get("scaler") else None,
                   tuple(int(c) for c in payload.get("categories", [])),
                   tuple(payload.get("labels", [])), bool(payload.get("relative", False)),
                   bool(payload.get("silent", False)))


def _refuse_float32_overflow(columns: list[np.ndarray], names) -> None:
    """25 naming the first finite model-space value beyond float32's range (the network
    reads float32): a series whose scale grows by dozens of orders of magnitude after
    the train split its scaler was fitted on."""
    limit = np.finfo(np.float32).max
    for name, column in zip(names, columns):
        beyond = np.flatnonzero(np.isfinite(column) & (np.abs(column) > limit))
        if beyond.size:
            what = "the target" if name == TARGET_FEATURE else f"covariate {name!r}"
            raise InputSchemaError(
                f"{what} is {column[beyond[0]]:.3g} at grid row {beyond[0]} once transformed "
                f"and scaled on the train split ({beyond.size} such row(s)): beyond the "
                f"network's float32 range (±{limit:.2g}). Its scale grows by dozens of orders "
                "of magnitude after the train split; rescale the data (e.g. --power log) "
                "or use a train split that spans its range")


@dataclass(frozen=True)
class FeatureSet:
    """Names of the model-space columns (target first) and the covariates' encoders."""

    names: tuple[str, ...] = (TARGET_FEATURE,)
    target_index: int = 0
    encoders: tuple[CovariateEncoder, ...] = ()

    @property
    def n_features(self) -> int:
        return len(self.names)

    @property
    def target_indices(self) -> list[int]:
        return [self.target_index]

    @property
    def covariate_names(self) -> tuple[str, ...]:
        """The covariates (input columns) this feature set reads."""
        return tuple(e.name for e in self.encoders)

    @property
    def covariate_scalers(self) -> tuple[Scaler, ...]:
        return tuple(e.scaler for e in self.encoders if e.scaler is not None)

    @property
    def n_future(self) -> int:
        """How many trailing columns are known in advance (read over the horizon)."""
        return sum(len(e.columns) for e in self.encoders if e.known_in_advance)

    @property
    def known_in_advance(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.encoders if e.known_in_advance)

    @property
    def relative_indices(self) -> list[int]:
        """Columns the network reads relative to each window's origin (the target aside)."""
        indices, column = [], 1
        for encoder in self.encoders:
            if encoder.relative:
                indices.append(column)
            column += len(encoder.columns)
        return indices

    @property
    def relative_names(self) -> tuple[str, ...]:
        """The covariates the network reads relative to each window's origin."""
        return tuple(e.name for e in self.encoders if e.relative)

    @classmethod
    def fit(cls, covariates, train_end: int, scaling: str, val_end: int | None = None,
            may_be_constant: bool = False, relative: Collection[str] | None = None
            ) -> "FeatureSet":
        """Fit each covariate's encoder on its train part (``val_end``: the validation split
        decides which numeric covariates the network reads relative to the origin, unless
        ``relative`` names them: a backtest fold takes the run's decision, as it takes the
        run's transform, so that each fold scores the configuration the run chose).

        covariates: a tuple of ``data.covariates.Covariate``, or name -> float [n] (numeric,
        past-observed), or None.
        """
        covariates = as_covariates(covariates)
        ordered = sorted(covariates, key=lambda c: c.known_in_advance)  # stable: past first
        encoders = tuple(CovariateEncoder.fit(c, train_end, scaling, val_end, may_be_constant,
                                              None if relative is None else c.name in relative)
                         for c in ordered)
        names = [TARGET_FEATURE] + [col for e in encoders for col in e.columns]
        return cls(names=tuple(names), target_index=0, encoders=encoders)

    def stack(self, target: np.ndarray, covariates) -> np.ndarray:
        """The model-space series float32 [n, F]: the transformed target, encoded covariates."""
        columns = [np.asarray(target, dtype=np.float64)]
        by_name = {c.name: c for c in as_covariates(covariates)}
        for encoder in self.encoders:
            covariate = by_name[encoder.name]
            columns.extend(encoder.encode(covariate.values, covariate.labels))
        with np.errstate(over="ignore"):  # refused below, by name
            if len(columns) == 1:  # F = 1: no stacking copy at 10M points
                stacked = columns[0].astype(np.float32)[:, None]
            else:
                stacked = np.stack(columns, axis=1).astype(np.float32)
        if np.isinf(stacked).any():
            _refuse_float32_overflow(columns, self.names)
        return stacked

    def future_rows(self, future) -> np.ndarray:
        """float32 [H, F] rows after the series: the known-in-advance columns encoded from
        ``future`` (covariates over the forecast's timestamps), every other column 0 (the
        network never reads them beyond the origin)."""
        by_name = {c.name: c for c in as_covariates(future)}
        horizon = len(next(iter(by_name.values())).values) if by_name else 0
        rows = np.zeros((horizon, self.n_features), dtype=np.float32)
        column = 1
        for encoder in self.encoders:
            width = len(encoder.columns)
            if encoder.known_in_advance:
                covariate = by_name[encoder.name]
                rows[:, column:column + width] = np.stack(
                    encoder.encode(covariate.values, covariate.labels), axis=1)
            column += width
        return rows

    def to_dict(self) -> dict:
        return {"names": list(self.names), "target_index": self.target_index,
                "encoders": [e.to_dict() for e in self.encoders]}

    @classmethod
    def from_dict(cls, payload: dict | None) -> "FeatureSet":
        if not payload:  # payloads from before covariates: the target alone
            return cls()
        if "encoders" in payload:
            encoders = tuple(CovariateEncoder.from_dict(e) for e in payload["encoders"])
        else:  # numeric, past-observed covariates with one scaler each
            encoders = tuple(CovariateEncoder(name, "numeric", False, Scaler.from_dict(s))
                             for name, s in zip(payload["names"][1:],
                                                payload.get("covariate_scalers", [])))
        return cls(names=tuple(payload["names"]), target_index=int(payload["target_index"]),
                   encoders=encoders)


def as_covariates(covariates) -> tuple:
    """A tuple of ``Covariate`` from a tuple, a name -> values dict, or None."""
    from spline_lstm.data.covariates import Covariate

    if not covariates:
        return ()
    if isinstance(covariates, dict):
        return tuple(Covariate(name, "numeric", False, np.asarray(values, dtype=np.float64))
                     for name, values in covariates.items())
    return tuple(covariates)

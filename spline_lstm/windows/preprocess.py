"""Scale/window stage: train-fitted transforms, chronological split, model-space windows.

``Preprocessor`` holds everything fitted on the train split and converts both ways:
original units -> model space (power, seasonal adjustment, differencing, scaling) and
model-space forecasts -> original units. ``ProcessedData`` is what training and
evaluation consume, whether it was just computed or read back from processed.npz.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from contracts.artifacts import PREPROCESSOR_SCHEMA_VERSION
from spline_lstm.data.frequency import usable_seasons
from spline_lstm.data.interpolate import FilledSeries
from spline_lstm.transforms.scaling import Scaler
from spline_lstm.transforms.seasonal_adjust import SeasonalAdjuster
from spline_lstm.transforms.differencing import Differencer
from spline_lstm.transforms.power import PowerTransform, transform_name
from spline_lstm.windows.split import SPLITS, SplitBounds, cut_windows, require_windows, window_origins


def unscaled_model_space(power: PowerTransform, adjuster: SeasonalAdjuster,
                         differencer: Differencer, values: np.ndarray) -> np.ndarray:
    """Power, seasonal adjustment, then differencing; each step only looks back."""
    return differencer.apply(adjuster.apply(power.apply(values)))


@dataclass(frozen=True)
class Preprocessor:
    """Everything fitted on the train split, plus the settings needed to reuse it."""

    run_id: str
    lookback: int
    horizon: int
    seasons: list[int]
    freq: str
    power: PowerTransform
    differencer: Differencer
    scaler: Scaler
    interpolation: dict = field(default_factory=dict)
    timezone: str | None = None
    adjuster: SeasonalAdjuster = SeasonalAdjuster()

    @property
    def season(self) -> int:
        return self.seasons[0]

    @property
    def transform_name(self) -> str:
        return transform_name(self.power.kind, self.differencer.difference,
                              self.differencer.seasonal_difference, self.adjuster.enabled)

    @property
    def burn_in(self) -> int:
        """Leading points without a model value (seasonal adjustment, then differencing)."""
        return self.adjuster.burn_in + self.differencer.burn_in

    def to_original_units(self, predicted: np.ndarray, values: np.ndarray,
                          origins: np.ndarray) -> np.ndarray:
        """Model-space forecasts [N, H] from ``origins`` -> original units [N, H].

        values: the full original-unit series; only points at or before each origin
        are read (to undo differencing).
        """
        unscaled = self.scaler.invert(predicted)
        powered = self.power.apply(values)
        adjusted = self.differencer.invert_forecasts(unscaled, self.adjuster.apply(powered), origins)
        return self.power.invert(self.adjuster.invert_forecasts(adjusted, powered, origins))

    def to_payload(self) -> dict:
        """The plain-dict preprocessor.pkl payload (builtins only)."""
        return {
            "schema_version": PREPROCESSOR_SCHEMA_VERSION,
            "run_id": self.run_id,
            "lookback": int(self.lookback),
            "horizon": int(self.horizon),
            "seasons": [int(m) for m in self.seasons],
            "freq": self.freq,
            "timezone": self.timezone,
            "scaler": self.scaler.to_dict(),
            "power": self.power.to_dict(),
            "differencing": self.differencer.to_dict(),
            "seasonal_adjustment": self.adjuster.to_dict(),
            "interpolation": dict(self.interpolation),
        }

    @classmethod
    def from_payload(cls, payload: dict) -> "Preprocessor":
        return cls(
            run_id=payload["run_id"], lookback=int(payload["lookback"]),
            horizon=int(payload["horizon"]), seasons=[int(m) for m in payload["seasons"]],
            freq=payload["freq"], power=PowerTransform.from_dict(payload["power"]),
            differencer=Differencer.from_dict(payload["differencing"]),
            scaler=Scaler.from_dict(payload["scaler"]),
            interpolation=dict(payload.get("interpolation", {})),
            timezone=payload.get("timezone"),
            adjuster=SeasonalAdjuster.from_dict(payload.get("seasonal_adjustment")),
        )


@dataclass(frozen=True)
class ProcessedData:
    """The model-space series, the window origins of every split, and how to undo it all.

    Windows are not stored here: ``X``/``y`` cut (and cache) copies for small data and
    tests, ``dataset`` streams them for training and prediction at any size.
    """

    preprocessor: Preprocessor
    bounds: SplitBounds
    timestamps: pd.DatetimeIndex
    values: np.ndarray  # float64 [n], original units, gaps filled
    observed: np.ndarray  # bool [n]
    series: np.ndarray  # float32 [n], model space (NaN over the differencing burn-in)
    origins: dict[str, np.ndarray]  # split -> int64 [N]
    data_summary: dict = field(default_factory=dict)  # where the series came from
    # windows read from processed.npz, or cut on first use (small data only)
    _windows: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def windows(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(X [N, L, 1], y [N, H]) float32 copies; use ``dataset`` for large data."""
        if split not in self._windows:
            pre = self.preprocessor
            self._windows[split] = cut_windows(self.series, self.origins[split], pre.lookback,
                                               pre.horizon)
        return self._windows[split]

    def X(self, split: str) -> np.ndarray:
        return self.windows(split)[0]

    def y(self, split: str) -> np.ndarray:
        return self.windows(split)[1]

    def last_window(self, split: str) -> np.ndarray:
        """X [1, L, 1] of the split's latest window, without cutting the others."""
        pre = self.preprocessor
        return cut_windows(self.series, self.origins[split][-1:], pre.lookback, pre.horizon)[0]

    def dataset(self, split: str, batch_size: int, *, shuffle: bool = False, seed: int = 0,
                with_targets: bool = True):
        """Stream the split's windows in batches (tf.data), cut from ``series`` on the fly."""
        from spline_lstm.windows.streaming import window_dataset

        pre = self.preprocessor
        return window_dataset(self.series, self.origins[split], pre.lookback, pre.horizon,
                              batch_size, shuffle=shuffle, seed=seed, with_targets=with_targets)

    def window_values(self, split: str) -> int:
        """How many floats the split's X would take if materialised."""
        return int(len(self.origins[split]) * self.preprocessor.lookback)

    def window_counts(self) -> dict[str, int]:
        return {s: int(len(self.origins[s])) for s in SPLITS}


@dataclass(frozen=True)
class PreprocessSettings:
    lookback: int
    horizon: int
    seasons: list[int]
    val_size: float
    test_size: float
    scaling: str
    power: str = "none"
    difference: int = 0
    seasonal_difference: int = 0
    seasonal_adjust: bool = False


def preprocess(filled: FilledSeries, settings: PreprocessSettings, *, run_id: str, freq: str,
               interpolation: dict, data_summary: dict) -> ProcessedData:
    """Split chronologically, fit transforms and scaler on train, cut windows."""
    values = filled.values
    bounds = SplitBounds.from_fractions(len(values), settings.val_size, settings.test_size)
    train = values[:bounds.train_end]
    power = PowerTransform.fit(train, settings.power)
    seasons = usable_seasons(list(settings.seasons), bounds.train_end)
    adjuster = (SeasonalAdjuster.for_series(seasons, settings.horizon, len(values))
                if settings.seasonal_adjust else SeasonalAdjuster())
    differencer = Differencer(settings.difference, settings.seasonal_difference)
    # Every step before scaling only looks back, so the train part of the whole
    # transformed series is exactly the transformed train split.
    unscaled = unscaled_model_space(power, adjuster, differencer, values)
    scaler = Scaler.fit(unscaled[:bounds.train_end], settings.scaling)
    dropped = [m for m in settings.seasons if m not in seasons and m > 1]
    if dropped:
        data_summary = {**data_summary, "notes": [*data_summary.get("notes", []),
                        f"season(s) {dropped} ignored: the train split ({bounds.train_end} "
                        "points) holds fewer than two cycles"]}
    pre = Preprocessor(run_id=run_id, lookback=settings.lookback, horizon=settings.horizon,
                       seasons=seasons, freq=freq, power=power,
                       differencer=differencer, scaler=scaler, interpolation=interpolation,
                       timezone=data_summary.get("timezone"), adjuster=adjuster)
    series = scaler.apply(unscaled).astype(np.float32)
    return assemble(pre, bounds, filled.timestamps, values, filled.observed, series,
                    data_summary)


def assemble(pre: Preprocessor, bounds: SplitBounds, timestamps: pd.DatetimeIndex,
             values: np.ndarray, observed: np.ndarray, series: np.ndarray,
             data_summary: dict | None = None) -> ProcessedData:
    """Cut the windows of every split from a model-space series (raise 26 if too few)."""
    burn_in = pre.burn_in
    origins = {
        split: window_origins(bounds, split, lookback=pre.lookback, horizon=pre.horizon,
                              burn_in=burn_in, observed=None if split == "train" else observed)
        for split in SPLITS
    }
    require_windows({s: len(o) for s, o in origins.items()}, bounds, lookback=pre.lookback,
                    horizon=pre.horizon, burn_in=burn_in)
    return ProcessedData(preprocessor=pre, bounds=bounds, timestamps=timestamps, values=values,
                         observed=observed, series=series, origins=origins,
                         data_summary=dict(data_summary or {}))

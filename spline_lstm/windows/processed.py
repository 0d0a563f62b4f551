"""The processed data a forecaster consumes: model-space series, window origins, the way back.

``ProcessedData`` is the same whether it was just computed or read back from
processed.npz. Windows are not stored: ``X``/``y`` cut (and cache) copies for small data
and tests, ``dataset`` streams them for training and prediction at any size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from contracts.records import DataSummary
from spline_lstm.transforms.preprocessor import Preprocessor
from spline_lstm.windows.cut import cut_windows
from spline_lstm.windows.split import SPLITS, SplitBounds


@dataclass(frozen=True)
class ProcessedData:
    """The model-space series, the window origins of every split, and how to undo it all."""

    preprocessor: Preprocessor
    bounds: SplitBounds
    timestamps: pd.DatetimeIndex
    values: np.ndarray  # float64 [n], the target in original units, gaps filled
    observed: np.ndarray  # bool [n]
    series: np.ndarray  # float32 [n, F], model space (NaN over the target's burn-in)
    origins: dict[str, np.ndarray]  # split -> int64 [N]
    data_summary: DataSummary
    # the covariates as read (data.covariates.Covariate, original units): backtest folds
    # refit their encoders; ``future``: float32 [H, F] model-space rows after the series
    # whose known-in-advance columns the forward forecast reads (None: not given)
    covariates: tuple = ()
    future: np.ndarray | None = None
    # windows read from processed.npz, or cut on first use (small data only)
    _windows: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.preprocessor.features.names

    @property
    def target_index(self) -> int:
        return self.preprocessor.features.target_index

    @property
    def n_features(self) -> int:
        return int(self.series.shape[1])

    @property
    def n_future(self) -> int:
        """Trailing columns known in advance: windows also carry them over the horizon."""
        return self.preprocessor.features.n_future

    def _reach(self) -> int:
        return self.preprocessor.horizon if self.n_future else 0

    def windows(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(X [N, L (+H with covariates known in advance), F], y [N, H]) float32 copies;
        use ``dataset`` for large data."""
        if split not in self._windows:
            self._windows[split] = self._cut(self.origins[split])
        return self._windows[split]

    def X(self, split: str) -> np.ndarray:
        return self.windows(split)[0]

    def y(self, split: str) -> np.ndarray:
        return self.windows(split)[1]

    def last_window(self, split: str) -> np.ndarray:
        """X [1, L, F] of the split's latest window, without cutting the others."""
        return self._cut(self.origins[split][-1:])[0]

    def _cut(self, origins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pre = self.preprocessor
        return cut_windows(self.series, origins, pre.lookback, pre.horizon, self.target_index,
                           x_reach=self._reach())

    def dataset(self, split: str, batch_size: int, *, shuffle: bool = False, seed: int = 0,
                with_targets: bool = True):
        """Stream the split's windows in batches (tf.data), cut from ``series`` on the fly."""
        return self.dataset_at(self.origins[split], batch_size, shuffle=shuffle, seed=seed,
                               with_targets=with_targets)

    def dataset_at(self, origins: np.ndarray, batch_size: int, *, shuffle: bool = False,
                   seed: int = 0, with_targets: bool = True):
        """Stream the windows ending at ``origins`` (any origin up to the last point when
        ``with_targets`` is False: the forward forecast)."""
        from spline_lstm.windows.streaming import window_dataset

        pre = self.preprocessor
        series = self.series
        if self.n_future and len(origins) and int(np.max(origins)) + pre.horizon >= len(series):
            series = np.concatenate([series, self.rows_after_series()])
        return window_dataset(series, origins, pre.lookback, pre.horizon, batch_size,
                              shuffle=shuffle, seed=seed, with_targets=with_targets,
                              target_index=self.target_index, x_reach=self._reach())

    def rows_after_series(self) -> np.ndarray:
        """The rows after the series a forecast from its last points reads (25 without)."""
        from contracts.errors import InputSchemaError

        if self.future is None or len(self.future) < self.preprocessor.horizon:
            names = list(self.preprocessor.features.known_in_advance)
            raise InputSchemaError(
                f"covariate(s) {names} are known in advance: a forecast beyond the last "
                f"point ({self.timestamps[-1]}) needs their values for the next "
                f"{self.preprocessor.horizon} steps; give them with --future-covariates FILE "
                "(a timestamp column and one column each)")
        return np.asarray(self.future[:self.preprocessor.horizon], dtype=np.float32)

    def window_values(self, split: str) -> int:
        """How many floats the split's X would take if materialised."""
        return int(len(self.origins[split]) * self.preprocessor.lookback * self.n_features)

    def window_counts(self) -> dict[str, int]:
        return {s: int(len(self.origins[s])) for s in SPLITS}

    def filled(self):
        """The regular, gap-filled series this data was made from (original units)."""
        from spline_lstm.data.interpolate import FilledSeries

        return FilledSeries(self.timestamps, self.values, self.observed, self.preprocessor.grid,
                            self.covariates)

    def with_covariates(self, covariates: tuple, future: np.ndarray | None) -> "ProcessedData":
        from dataclasses import replace

        return replace(self, covariates=tuple(covariates), future=future)

    def with_summary(self, data_summary: DataSummary) -> "ProcessedData":
        """The same data with another data summary (windows already cut are kept)."""
        from dataclasses import replace

        return replace(self, data_summary=data_summary)

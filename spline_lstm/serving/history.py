"""A request's recent history as a model's input: the ingest validation, the gap filling
and the model's own (already fitted) transform chain — the pipeline's code, not a copy."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from contracts.errors import InsufficientDataError, InvalidArgumentError
from contracts.records import DataSummary
from spline_lstm.data.ingest import parse_raw_frame
from spline_lstm.data.interpolate import choose_max_gap, interpolate_series
from spline_lstm.windows.processed import ProcessedData
from spline_lstm.windows.split import SPLITS, SplitBounds


def history_data(pre, timestamps: list[str], values: list[float]) -> ProcessedData:
    """``ProcessedData`` of the history in the model space of preprocessor ``pre``; its last
    point is the forecast origin."""
    if pre.features.covariate_names:
        raise InvalidArgumentError(
            f"this model reads covariates {list(pre.features.covariate_names)}, which a "
            "request's history does not carry; omit the history to forecast the stored "
            "series (its run was given the covariates), or serve a model without covariates")
    ingested = parse_raw_frame(pd.DataFrame({"timestamp": timestamps, "target": values}),
                               "timestamp", "target", source="the request's history")
    seasons = list(pre.grid.seasons or pre.seasons or [1])
    filled = interpolate_series(ingested.frame, to_offset(pre.freq), seasons,
                                pre.grid.max_gap or choose_max_gap(seasons),
                                pre.grid.method or "auto")
    n, needed = len(filled.values), pre.lookback + pre.burn_in
    if n < needed:
        raise InsufficientDataError(
            f"the history holds {n} points on the model's {pre.freq} grid; this model needs "
            f"at least {needed} (its lookback {pre.lookback} + transform burn-in "
            f"{pre.burn_in}). Send more history, or omit it to forecast the stored series")
    target = pre.chain.apply(np.asarray(filled.values, dtype=np.float64))
    series = pre.features.stack(target, None).astype(np.float32)
    empty = np.zeros(0, dtype=np.int64)
    return ProcessedData(preprocessor=pre, bounds=SplitBounds(n=n, train_end=n, val_end=n),
                         timestamps=filled.timestamps, values=filled.values,
                         observed=filled.observed, series=series,
                         origins={split: empty for split in SPLITS},
                         data_summary=DataSummary(source="request", n_rows=n))

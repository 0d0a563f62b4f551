"""predictions/{run_id}.csv: every test forecast and the forward forecast, long format (pure)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.artifacts import PREDICTION_COLUMNS
from contracts.records import ForecastRecord
from spline_lstm.evaluation.intervals import level_key
from spline_lstm.evaluation.scoring import Evaluation


def interval_order(columns: list[str]) -> list[str]:
    """The SPEC columns, then lo_80, hi_80, lo_95, hi_95 ... by level."""
    bounds = sorted((c for c in columns if c.startswith(("lo_", "hi_"))),
                    key=lambda c: (float(c[3:]), c[:2] == "hi"))
    return [c for c in columns if c not in bounds] + bounds


def predictions_frame(data, evaluation: Evaluation, forecast: ForecastRecord,
                      test_bounds: dict[float, tuple[np.ndarray, np.ndarray]] | None = None
                      ) -> pd.DataFrame:
    """One row per (origin, step) (SPEC §3), test then forecast, original units; then a
    lo_<level> / hi_<level> column pair per interval level."""
    pre, ts = data.preprocessor, data.timestamps
    origins = evaluation.origins
    steps = np.arange(1, pre.horizon + 1)
    y_true = np.where(evaluation.scored, evaluation.y_true, np.nan)
    test = pd.DataFrame({
        "origin": np.repeat(ts[origins], pre.horizon),
        "timestamp": ts[(origins[:, None] + steps[None, :]).ravel()],
        "step": np.tile(steps, len(origins)),
        "y_true": y_true.ravel(),
        "y_pred": evaluation.y_pred.ravel(),
        "kind": "test",
    })
    future = pd.DataFrame({
        "origin": [forecast.origin] * pre.horizon,
        "timestamp": forecast.timestamps,
        "step": steps,
        "y_true": np.nan,
        "y_pred": forecast.values,
        "kind": "forecast",
    })
    for level, (lo, hi) in sorted((test_bounds or {}).items()):
        test[f"lo_{level_key(level)}"], test[f"hi_{level_key(level)}"] = lo.ravel(), hi.ravel()
    for name, bound in forecast.intervals.items():
        future[name] = bound
    columns = list(PREDICTION_COLUMNS) + [c for c in test.columns if c.startswith(("lo_", "hi_"))]
    frame = pd.concat([test, future], ignore_index=True)[interval_order(columns)]
    if pre.timezone:
        for col in ("origin", "timestamp"):
            frame[col] = pd.DatetimeIndex(frame[col]).tz_localize(pre.timezone)
    return frame

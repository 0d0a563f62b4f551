"""The MLflow form of a run's forecaster: a pyfunc model over the run's own files.

    model = mlflow.pyfunc.load_model("models:/NAME@champion")
    model.predict(pd.DataFrame({"horizon": [12]}))   # timestamp, value, lo_80, hi_80, ...

It bundles what ``RunModel`` loads (processed series, preprocessor, chosen forecaster,
interval calibration), so it forecasts exactly what the run forecast, from the last point of
the run's series.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd

from contracts.records import ForecastRecord


def forecast_frame(forecast: ForecastRecord) -> pd.DataFrame:
    """timestamp, value, then lo_/hi_ per level: the model's output."""
    frame = pd.DataFrame({"timestamp": pd.DatetimeIndex(forecast.timestamps).tz_localize(None),
                          "value": forecast.values})
    for key, bounds in forecast.intervals.items():
        frame[key] = bounds
    return frame


def input_example(horizon: int) -> pd.DataFrame:
    return pd.DataFrame({"horizon": [int(horizon)]})


class RunForecastModel(mlflow.pyfunc.PythonModel):
    """Forecast ``horizon`` steps (the input's one ``horizon`` value; default the run's)."""

    def load_context(self, context) -> None:
        from spline_lstm.tracking.run_model import RunModel

        self.run = RunModel.load(Path(context.artifacts["run"]), context.model_config["run_id"])

    # A DataFrame hint tells MLflow there is no schema to infer from it (the signature logged
    # with the model is explicit); without a hint MLflow warns, on every run's console, in a
    # form no warning filter can silence (it forces its own "once" filter around the check).
    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        horizon = None
        if isinstance(model_input, pd.DataFrame) and "horizon" in model_input and \
                len(model_input):
            horizon = int(model_input["horizon"].iloc[0])
        return forecast_frame(self.run.forecast(horizon))

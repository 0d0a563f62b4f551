"""The models the API serves: each registered model's champion, reloaded when its alias
moves — load, verify, then swap, so a request never sees a half-loaded model.

If a champion cannot be loaded the last good model stays in service; with none, requests
get a seasonal-naive forecast of the stored series flagged ``fallback`` and ``/ready`` says
why. Other aliases and versions are loaded on request and kept (a few).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from contracts.artifacts import ArtifactLayout
from contracts.errors import InputFileNotFoundError, InvalidArgumentError
from contracts.records import ForecastRecord
from spline_lstm.models.prediction import forward_forecast, with_intervals
from spline_lstm.tracking import registry

LOG = logging.getLogger("spline_lstm.serving")
KEEP_OTHERS = 4


@dataclass
class Served:
    """One loaded version: its model and its stored-series forecast (computed at load)."""

    name: str
    version: str
    run_id: str
    model: object | None  # RunModel; None for a fallback
    forecast: ForecastRecord
    fallback: bool = False
    reason: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def horizon(self) -> int:
        return len(self.forecast.values)


def load_served(client, name: str, version: str) -> Served:
    """Load and verify a version (its stored-series forecast must be finite)."""
    model = registry.load_version(client, name, version)
    forecast = model.forecast()
    if not all(math.isfinite(v) for v in forecast.values):
        raise ValueError(f"version {version} of {name!r} forecasts non-finite values")
    return Served(name, str(version), model.run_id, model, forecast)


def fallback_served(client, name: str, version: str | None, reason: str) -> Served | None:
    """Seasonal naive on the champion's stored series, when its data can still be read."""
    from spline_lstm.models.naive import NaiveForecaster
    from spline_lstm.store.processed_io import read_processed

    if version is None:
        return None
    try:
        with registry.downloaded_version(client, name, version) as (folder, run_id):
            layout = ArtifactLayout(folder, run_id)
            data = read_processed(layout.processed_npz, run_id, layout.preprocessor_pkl)
        forecast = forward_forecast(NaiveForecaster("seasonal_naive"), data)
    except Exception as exc:  # noqa: BLE001 - nothing at all can be served for this model
        LOG.error("no fallback for %s: %s", name, exc)
        return None
    return Served(name, str(version), run_id, None, forecast, fallback=True, reason=reason)


class ChampionCache:
    """Champions by model name, refreshed by ``refresh`` (a thread calls it periodically)."""

    def __init__(self, connect, models: tuple[str, ...] = ()) -> None:
        self._connect = connect  # () -> MlflowClient
        self._models = tuple(models)
        self._champions: dict[str, Served] = {}
        self._problems: dict[str, str] = {}
        self._others: OrderedDict[tuple[str, str], Served] = OrderedDict()
        self._swap = threading.Lock()
        self._refreshing = threading.Lock()
        self.last_refresh_error: str | None = None

    def client(self):
        """A registry client (what the API's /models lists from)."""
        return self._connect()

    def names(self) -> list[str]:
        return sorted(set(self._models) | set(self._champions) | set(self._problems))

    def refresh(self) -> None:
        """Load each model whose champion alias moved since the last refresh."""
        with self._refreshing:
            try:
                client = self._connect()
                names = self._models or tuple(m["model"] for m in registry.list_models(client))
            except Exception as exc:  # noqa: BLE001 - keep serving what is loaded
                self.last_refresh_error = f"the registry cannot be read: {exc}"
                LOG.warning("%s", self.last_refresh_error)
                return
            self.last_refresh_error = None
            for name in names:
                self._refresh_one(client, name)

    def _refresh_one(self, client, name: str) -> None:
        try:
            version = registry.alias_version(client, name, registry.CHAMPION)
        except Exception as exc:  # noqa: BLE001
            self._problems[name] = f"cannot read the aliases of {name!r}: {exc}"
            return
        current = self._champions.get(name)
        if version is None:
            self._problems[name] = f"{name!r} has no champion yet (spline-lstm models promote)"
            return
        if current is not None and current.version == version and not current.fallback:
            self._problems.pop(name, None)
            return
        if name in self._problems and current is not None and current.fallback and \
                current.version == version:
            return  # already failed on this version; wait for the alias to move
        try:
            loaded = load_served(client, name, version)
        except Exception as exc:  # noqa: BLE001 - stay on the last good model
            reason = f"champion version {version} of {name!r} cannot be loaded: {exc}"
            LOG.error("%s", reason)
            self._problems[name] = reason
            if current is None or current.fallback:
                fallback = fallback_served(client, name, version, reason)
                if fallback is not None:
                    with self._swap:
                        self._champions[name] = fallback
            return
        with self._swap:
            self._champions[name] = loaded
        self._problems.pop(name, None)
        LOG.info("serving %s version %s (run %s)", name, version, loaded.run_id)

    def champion(self, name: str) -> Served:
        with self._swap:
            served = self._champions.get(name)
        if served is None:
            raise InputFileNotFoundError(self._problems.get(
                name, f"model {name!r} is not served here; GET /api/v1/models lists them"))
        return served

    def get(self, name: str, alias: str | None = None, version: int | None = None) -> Served:
        """The champion, or a named alias / version (loaded on first use)."""
        if version is None and alias in (None, registry.CHAMPION):
            return self.champion(name)
        client = self._connect()
        if version is None:
            found = registry.alias_version(client, name, alias)
            if found is None:
                raise InvalidArgumentError(f"model {name!r} has no {alias!r} alias")
            version = found
        key = (name, str(version))
        with self._swap:
            if key in self._others:
                self._others.move_to_end(key)
                return self._others[key]
        served = load_served(client, name, str(version))
        with self._swap:
            self._others[key] = served
            while len(self._others) > KEEP_OTHERS:
                self._others.popitem(last=False)
        return served

    def readiness(self) -> tuple[bool, dict]:
        """(every served model loaded, per-model state)."""
        state = {}
        for name in self.names():
            served = self._champions.get(name)
            state[name] = {"version": served.version if served else None,
                           "run_id": served.run_id if served else None,
                           "fallback": bool(served and served.fallback),
                           "problem": self._problems.get(name)}
        ready = bool(state) and all(not s["problem"] and s["version"] and not s["fallback"]
                                    for s in state.values())
        return ready and self.last_refresh_error is None, state


def forecast_for(served: Served, horizon: int, levels: list[float] | None,
                 history: tuple[list[str], list[float]] | None) -> ForecastRecord:
    """The forecast a request asks for: stored series (cached) or its own history."""
    if horizon > served.horizon:
        raise InvalidArgumentError(
            f"horizon {horizon} is longer than the {served.horizon} steps model "
            f"{served.name!r} version {served.version} forecasts; ask for at most "
            f"{served.horizon}")
    if history is None:
        full = served.forecast
    elif served.model is None:
        raise InvalidArgumentError(
            f"model {served.name!r} is on its seasonal-naive fallback (its champion cannot "
            "be loaded); it forecasts only the stored series. Omit the history")
    else:
        from spline_lstm.serving.history import history_data

        model = served.model
        data = history_data(model.data.preprocessor, *history)
        with served.lock:  # one forecast at a time per model (Keras predict state)
            full = with_intervals(forward_forecast(model.forecaster, data), model.calibrator)
    return _cut(full, horizon, levels)


def _cut(forecast: ForecastRecord, horizon: int, levels: list[float] | None) -> ForecastRecord:
    from dataclasses import replace

    from spline_lstm.evaluation.intervals import level_key

    keys = {k.split("_", 1)[1] for k in forecast.intervals}
    if levels is not None:
        wanted = {level_key(float(level)) for level in levels}
        missing = sorted(wanted - keys)
        if missing:
            raise InvalidArgumentError(
                f"levels {missing} are not calibrated for this model; available: "
                f"{sorted(keys, key=float) or 'none'}")
        keys = wanted
    return replace(forecast, timestamps=forecast.timestamps[:horizon],
                   values=list(np.asarray(forecast.values[:horizon], dtype=float)),
                   intervals={k: v[:horizon] for k, v in forecast.intervals.items()
                              if k.split("_", 1)[1] in keys})

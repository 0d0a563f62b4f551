"""Forecasters by name: the one list to extend when a model family is added.

    build_forecaster("auto_arima")            # unfitted, settings from the data at fit
    build_forecaster("lstm", settings=RecurrentSettings(...), workdir=folder)
    load_forecaster(folder)                   # whatever Forecaster.save wrote there
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from contracts.errors import InvalidArgumentError
from spline_lstm.models.base import SPEC_FILE, Forecaster
from spline_lstm.models.classical import (
    MSTL_TRENDS,
    STATS_MODELS,
    MSTLForecaster,
    StatsForecaster,
)
from spline_lstm.models.combination import CombinationForecaster
from spline_lstm.models.naive import NaiveForecaster
from spline_lstm.models.recurrent import RecurrentForecaster, RecurrentSettings
from spline_lstm.models.univariate import UnivariateNetwork


def _recurrent(cell: str) -> Callable[..., Forecaster]:
    def build(settings: RecurrentSettings | None = None, workdir: Path | None = None,
              **kwargs) -> Forecaster:
        from dataclasses import replace

        return RecurrentForecaster(replace(settings or RecurrentSettings(), cell=cell),
                                   workdir, **kwargs)
    return build


BUILDERS: dict[str, Callable[..., Forecaster]] = {
    "lstm": _recurrent("lstm"),
    "gru": _recurrent("gru"),
    **{name: (lambda name=name, **kw: StatsForecaster(name, **kw)) for name in STATS_MODELS},
    **{f"mstl_{trend}": (lambda trend=trend, **kw: MSTLForecaster(trend, **kw))
       for trend in MSTL_TRENDS},
    "auto_arima_x": lambda **kw: StatsForecaster("auto_arima", exogenous=True, **kw),
    "mstl_arima_x": lambda **kw: MSTLForecaster("arima", exogenous=True, **kw),
    **{kind: (lambda kind=kind, **kw: NaiveForecaster(kind, **kw))
       for kind in NaiveForecaster.KINDS},
}
CLASSES: dict[str, type[Forecaster]] = {
    cls.__name__: cls for cls in (RecurrentForecaster, StatsForecaster, MSTLForecaster,
                                  NaiveForecaster, CombinationForecaster, UnivariateNetwork)}


def forecaster_names() -> list[str]:
    return list(BUILDERS)


def build_forecaster(name: str, **settings) -> Forecaster:
    """An unfitted forecaster by name (20 for an unknown name)."""
    if name not in BUILDERS:
        raise InvalidArgumentError(
            f"unknown forecaster {name!r}; known: {', '.join(forecaster_names())}")
    return BUILDERS[name](**settings)


def load_forecaster(folder: Path) -> Forecaster:
    """Load what ``Forecaster.save`` wrote in ``folder`` (a recurrent run's checkpoints too)."""
    folder = Path(folder)
    spec_file = folder / SPEC_FILE
    if not spec_file.is_file():  # a recurrent run's checkpoint folder holds only .keras files
        return RecurrentForecaster.load(folder)
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    cls = CLASSES.get(spec.get("class"))
    if cls is None:
        raise InvalidArgumentError(f"{spec_file} names an unknown forecaster class "
                                   f"{spec.get('class')!r}; known: {', '.join(CLASSES)}")
    return cls.load(folder)

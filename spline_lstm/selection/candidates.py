"""Which target transforms to compare on validation (pure).

When left on auto: no seasonal difference, one per usable season, and a rolling MSTL
seasonal adjustment (transforms/seasonal_adjust.py), each without and, for series that
look multiplicative, with a log transform.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from contracts.config import RunConfig
from spline_lstm.data.frequency import usable_seasons
from spline_lstm.models.classical import SHORT_SEASON
from spline_lstm.transforms.chain import TransformSpec

MULTIPLICATIVE_RANK_CORRELATION = 0.6
MULTIPLICATIVE_LEVEL_RATIO = 1.3


def looks_multiplicative(train: np.ndarray, season: int) -> bool:
    """True when, cycle by cycle, the spread grows with the level (and the level moves)."""
    if season <= 1 or len(train) < 3 * season or np.min(train) <= 0:
        return False
    cycles = np.asarray(train[:len(train) // season * season]).reshape(-1, season)
    level, spread = cycles.mean(axis=1), cycles.std(axis=1)
    rho = spearmanr(level, spread).statistic
    moves = level.max() / level.min() >= MULTIPLICATIVE_LEVEL_RATIO
    return bool(np.isfinite(rho) and rho >= MULTIPLICATIVE_RANK_CORRELATION and moves)


def transform_candidates(config: RunConfig, train: np.ndarray, seasons: list[int],
                         positive: bool = True) -> list[TransformSpec]:
    """The transforms to compare; a single one when the config fixes every choice.

    On auto, the seasonal adjustment joins the candidates only while the seasonal
    difference is on auto too (fixing ``--seasonal-difference`` is taken as the choice),
    and only for a season longer than ``SHORT_SEASON``: the same line the classical
    baselines draw between seasonal ETS/ARIMA and MSTL. Short seasons come with short
    series, whose validation split holds a handful of windows: on monthly air passengers
    at H=12 the adjustment won on 3 validation windows and then lost to seasonal
    differencing on the test split (MASE 1.02 vs 0.77).

    positive: every value of the whole series is > 0 (log applies to every point, so a
    zero anywhere rules it out; this is a domain check, not a choice made on the data).
    """
    usable = [m for m in usable_seasons(seasons, len(train)) if m > 1]
    if config.seasonal_difference is None:
        lags = [0] + usable
    else:
        lags = [config.seasonal_difference]
    if config.power == "auto":
        powers = ["none"] + (["log"] if positive and usable and
                             looks_multiplicative(train, usable[0]) else [])
    else:
        powers = [config.power]
    plain = [TransformSpec(power=p, difference=config.difference, seasonal_difference=m,
                           scaling=config.scaling) for p in powers for m in lags]
    adjusted = [TransformSpec(power=p, difference=config.difference,
                              seasonal_difference=config.seasonal_difference or 0,
                              seasonal_adjust=True, scaling=config.scaling) for p in powers]
    if config.seasonal_adjust == "mstl":
        return adjusted
    if (config.seasonal_adjust == "auto" and usable and max(usable) > SHORT_SEASON
            and config.seasonal_difference is None):
        return plain + adjusted
    return plain

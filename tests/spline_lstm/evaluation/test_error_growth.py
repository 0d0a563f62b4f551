"""The calibration space from how the blocks' errors grow with the level (pure, tiny data)."""

import numpy as np
import pytest

from spline_lstm.evaluation.error_growth import blocks_power, growth_slope
from spline_lstm.transforms.power import PowerTransform

LOG = PowerTransform(kind="log", lam=0.0)


def _blocks(level: np.ndarray, errors: np.ndarray, horizon: int = 2):
    """Forecasts [N, H] at ``level`` (per origin) and targets off them by ``errors``."""
    y_pred = np.repeat(level[:, None], horizon, axis=1)
    return y_pred + errors, y_pred, np.ones(y_pred.shape, dtype=bool)


def _cycling_level(n: int) -> np.ndarray:
    """A level that swings between 50 and 5,000 and back, several times (as lynx does)."""
    return np.exp(np.log(500) + 2.3 * np.sin(np.arange(n) * 2 * np.pi / 10))


def test_errors_of_one_size_at_every_level_move_the_space_off_the_log():
    rng = np.random.default_rng(0)
    level = _cycling_level(80)
    y_true, y_pred, scored = _blocks(level, rng.normal(0, 40, (80, 2)))
    slope, se = growth_slope(y_true, y_pred, scored)
    assert abs(slope) < 0.3 and se < 0.2
    power = blocks_power(y_true, y_pred, scored, LOG)
    assert power.kind in ("none", "boxcox") and (power.kind == "none" or power.lam > 0.7)


def test_errors_in_proportion_to_the_level_keep_the_log():
    rng = np.random.default_rng(1)
    level = _cycling_level(80)
    y_true, y_pred, scored = _blocks(level, level[:, None] * rng.normal(0, 0.1, (80, 2)))
    slope, _ = growth_slope(y_true, y_pred, scored)
    assert 0.7 < slope < 1.3
    assert blocks_power(y_true, y_pred, scored, LOG).kind in ("log", "boxcox")
    assert _lam(blocks_power(y_true, y_pred, scored, LOG)) < 0.2


def test_a_trend_cannot_show_the_level_apart_from_time_so_the_log_stays():
    """Errors of one size on a rising level: the level moves with time, so the blocks
    cannot tell a level effect from a change over the years, and the log stays. Without
    the time term the slope came out near 0 with a small standard error, and the space
    moved towards original units, where a trending series' test split (higher than every
    block) gets bands too narrow."""
    rng = np.random.default_rng(2)
    level = np.exp(np.linspace(np.log(300), np.log(1000), 60))
    errors = rng.normal(0, 20, (60, 2))
    # exactly exponential growth: the level is a function of time, nothing to measure
    assert growth_slope(*_blocks(level, errors)) is None
    assert blocks_power(*_blocks(level, errors), LOG) is LOG
    # with some wobble around the trend: measurable, but too loosely to leave the log
    wobbly = level * np.exp(rng.normal(0, 0.01, 60))
    _, se = growth_slope(*_blocks(wobbly, errors))
    assert se > 2.0
    assert _lam(blocks_power(*_blocks(wobbly, errors), LOG)) < 0.05


def test_a_space_other_than_the_log_and_too_few_errors_are_left_as_they_are():
    rng = np.random.default_rng(3)
    level = _cycling_level(80)
    y_true, y_pred, scored = _blocks(level, rng.normal(0, 40, (80, 2)))
    none, boxcox = PowerTransform(), PowerTransform(kind="boxcox", lam=0.3)
    assert blocks_power(y_true, y_pred, scored, none) is none
    assert blocks_power(y_true, y_pred, scored, boxcox) is boxcox
    assert growth_slope(y_true[:3], y_pred[:3], scored[:3]) is None
    assert blocks_power(y_true[:3], y_pred[:3], scored[:3], LOG) is LOG


@pytest.mark.parametrize("spoil", ["unscored", "non-positive forecast", "nan target"])
def test_errors_outside_the_question_are_left_out(spoil):
    rng = np.random.default_rng(4)
    level = _cycling_level(80)
    y_true, y_pred, scored = _blocks(level, rng.normal(0, 40, (80, 2)))
    clean = growth_slope(y_true, y_pred, scored)
    # ten rows made wild: an error of a million; each spoil takes them out of the fit
    y_true, y_pred, scored = y_true.copy(), y_pred.copy(), scored.copy()
    y_true[::8] += 1e6
    if spoil == "unscored":
        scored[::8] = False
    elif spoil == "non-positive forecast":
        y_pred[::8] = -1.0
    else:
        y_true[::8] = np.nan
    slope, se = growth_slope(y_true, y_pred, scored)
    assert np.isfinite(slope) and np.isfinite(se)
    assert abs(slope - clean[0]) < 0.2


def test_errors_of_exactly_zero_do_not_break_the_fit():
    """An integer series forecast by naive models errs by exactly 0 now and then."""
    rng = np.random.default_rng(5)
    level = np.round(_cycling_level(80))
    errors = np.round(rng.normal(0, 40, (80, 2)))
    errors[::3] = 0.0
    slope, se = growth_slope(*_blocks(level, errors))
    assert np.isfinite(slope) and np.isfinite(se)


def _lam(power: PowerTransform) -> float:
    return {"log": 0.0, "none": 1.0}.get(power.kind, power.lam)

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.errors import InsufficientDataError
from spline_lstm.windows.cut import cut_windows
from spline_lstm.windows.split import (
    SPLITS,
    SplitBounds,
    require_windows,
    window_origins,
)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(60, 400), lookback=st.integers(2, 12), horizon=st.integers(1, 6),
       burn_in=st.integers(0, 3))
def test_windows_round_trip_to_the_series_and_respect_their_split(n, lookback, horizon, burn_in):
    series = np.arange(n, dtype=np.float32) * 0.5
    bounds = SplitBounds.from_fractions(n, 0.1, 0.2, horizon=horizon)
    for split in SPLITS:
        origins = window_origins(bounds, split, lookback=lookback, horizon=horizon, burn_in=burn_in)
        X, y = cut_windows(series[:, None], origins, lookback, horizon)
        assert X.shape == (len(origins), lookback, 1) and y.shape == (len(origins), horizon)
        assert X.dtype == np.float32 and y.dtype == np.float32
        start, end = bounds.target_range(split)
        for i, origin in enumerate(origins):
            assert np.array_equal(X[i, :, 0], series[origin - lookback + 1:origin + 1])
            assert np.array_equal(y[i], series[origin + 1:origin + 1 + horizon])
            assert start <= origin + 1 and origin + horizon < end  # all targets in the split
            assert origin - lookback + 1 >= burn_in


def test_split_fractions_are_chronological():
    bounds = SplitBounds.from_fractions(1000, 0.1, 0.2, horizon=24)
    assert (bounds.train_end, bounds.val_end) == (700, 800)
    assert bounds.sizes() == {"train": 700, "val": 100, "test": 200}


@pytest.mark.parametrize("n, horizon, sizes", [
    (72, 12, {"train": 46, "val": 12, "test": 14}),  # six years monthly, a year ahead
    (36, 8, {"train": 20, "val": 8, "test": 8}),  # both short: each one horizon
    (72, 7, {"train": 51, "val": 7, "test": 14}),  # the fractions already give a window
])
def test_val_and_test_hold_at_least_one_horizon(n, horizon, sizes):
    bounds = SplitBounds.from_fractions(n, 0.1, 0.2, horizon=horizon)
    assert bounds.sizes() == sizes
    for split in ("val", "test"):  # one window at least, its inputs reaching back
        assert len(window_origins(bounds, split, lookback=8, horizon=horizon)) >= 1


def test_val_and_test_origins_can_be_limited_to_observed_points():
    bounds = SplitBounds.from_fractions(100, 0.1, 0.2, horizon=1)
    observed = np.ones(100, dtype=bool)
    observed[85] = False
    origins = window_origins(bounds, "test", lookback=4, horizon=1, observed=observed)
    assert 85 not in origins and 84 in origins


def test_too_few_windows_say_which_split_and_what_to_do():
    bounds = SplitBounds.from_fractions(40, 0.1, 0.2, horizon=5)
    counts = {s: len(window_origins(bounds, s, lookback=20, horizon=5)) for s in SPLITS}
    with pytest.raises(InsufficientDataError) as caught:
        require_windows(counts, bounds, lookback=20, horizon=5)
    message = caught.value.message
    assert caught.value.exit_code == 26
    assert "train: 3 window(s) from 27 points (need 8)" in message and "--lookback" in message


def test_lookback_is_two_seasons_when_the_data_allows():
    from spline_lstm.windows.split import choose_lookback

    def n_train(n, horizon=1):
        return SplitBounds.from_fractions(n, 0.1, 0.2, horizon=horizon).train_end

    assert choose_lookback([52], 1, n_train(2284)) == 104
    assert choose_lookback([48, 336], 48, n_train(4032, 48)) == 96
    assert choose_lookback([12], 12, n_train(144, 12)) == 24
    assert choose_lookback([24], 1, n_train(40)) == 8  # no season fits twice in train: the minimum
    assert choose_lookback([12], 1, n_train(50)) == 17  # leaves room for train windows


def test_windows_carry_every_feature_and_the_target_column_as_y():
    series = np.stack([np.arange(50.0), 100 + np.arange(50.0), -np.arange(50.0)], axis=1)
    X, y = cut_windows(series, np.array([9, 20]), 5, 3, target_index=1)
    assert X.shape == (2, 5, 3) and y.shape == (2, 3)
    assert np.array_equal(X[0], series[5:10]) and np.array_equal(y[1], series[21:24, 1])


def test_six_years_of_months_can_be_forecast_a_year_ahead():
    """10 % of 72 points is 7: without the one-horizon floor the validation split held no
    12-step window and such a run was refused (26)."""
    import pandas as pd

    from spline_lstm.windows.feasibility import check_feasible
    from spline_lstm.windows.split import choose_lookback

    stamps = pd.date_range("1973-01-01", periods=72, freq="MS")
    values = 9000 + 1000 * np.sin(np.arange(72) * np.pi / 6)
    train_end = SplitBounds.from_fractions(72, 0.1, 0.2, horizon=12).train_end
    lookback = choose_lookback([12], 12, train_end)
    check_feasible(stamps, values, np.ones(72, dtype=bool), "MS", lookback=lookback,
                   horizon=12, val_size=0.1, test_size=0.2)  # raises when it cannot work

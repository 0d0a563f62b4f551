import warnings

import numpy as np
import pandas as pd
import pytest

from contracts.errors import InsufficientDataError, InvalidArgumentError
from spline_lstm.data.frequency import (
    infer_freq,
    infer_seasons,
    nominal_step,
    parse_freq,
    usable_seasons,
)
from spline_lstm.data.interpolate import interpolate_series
from spline_lstm.models.prediction import future_timestamps
from spline_lstm.windows.feasibility import check_feasible

# Trading days of early 2024 without its market holidays (1 and 15 Jan, 19 Feb).
TRADING_DAYS = pd.bdate_range("2024-01-01", "2024-03-29").drop(
    pd.to_datetime(["2024-01-01", "2024-01-15", "2024-02-19"]))


@pytest.mark.parametrize("freq,dropped,expected", [
    ("W-SAT", [3, 4, 10], pd.Timedelta(days=7)),
    ("30min", [5, 6, 7], pd.Timedelta(minutes=30)),
    ("h", [], pd.Timedelta(hours=1)),
])
def test_fixed_steps_are_inferred_despite_gaps(freq, dropped, expected):
    stamps = pd.date_range("2024-01-06", periods=60, freq=freq).delete(dropped)
    assert pd.Timedelta(infer_freq(stamps)) == expected


def test_months_are_inferred_as_a_calendar_frequency_despite_gaps():
    stamps = pd.date_range("1949-01-01", periods=48, freq="MS").delete([5, 6, 20])
    assert infer_freq(stamps).name == "MS"


def test_weekday_stamps_with_holidays_missing_are_business_days():
    freq = infer_freq(TRADING_DAYS)
    assert freq.freqstr == "B" and infer_seasons(freq) == [5]
    assert nominal_step(freq) == pd.Timedelta(days=1)  # calendar features: a daily step
    # on the business-day grid only the holidays are gaps, not every weekend
    frame = pd.DataFrame({"timestamp": TRADING_DAYS, "target": range(len(TRADING_DAYS))})
    filled = interpolate_series(frame, freq, [5], max_gap=5, fill_method="auto")
    assert filled.grid.n_filled == 2 and (filled.timestamps.dayofweek < 5).all()
    # a forecast from a Friday is for Monday, not for Saturday
    assert list(future_timestamps(pd.Timestamp("2024-03-29"), "B", 2)) == [
        pd.Timestamp("2024-04-01"), pd.Timestamp("2024-04-02")]


@pytest.mark.parametrize("stamps", [
    TRADING_DAYS.insert(10, pd.Timestamp("2024-01-13")),  # one Saturday observed
    TRADING_DAYS[:8].delete(2),  # one weekend in the span: too short to tell
])
def test_daily_stamps_stay_calendar_days_unless_weekends_are_clearly_absent(stamps):
    assert infer_freq(stamps.sort_values()).freqstr == "D"


@pytest.mark.parametrize("freq,seasons", [
    ("h", [24, 168]), ("30min", [48, 336]), ("D", [7]), ("W-SAT", [52]), ("7D", [52]),
    ("MS", [12]), ("QS", [4]), ("YS", [1]), ("17min", [1]),
])
def test_seasons_follow_the_frequency(freq, seasons):
    assert infer_seasons(parse_freq(freq)) == seasons


def test_bad_freq_is_an_invalid_argument():
    with pytest.raises(InvalidArgumentError, match="offset alias"):
        parse_freq("fortnightly-ish")


def test_an_old_pandas_alias_is_parsed_without_pandas_advice_on_the_console():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        offset = parse_freq("M")  # pandas: "'M' is deprecated ... use 'ME'"
    assert offset.freqstr == "ME" and not caught


def test_a_freq_coarser_than_the_whole_series_is_refused_as_too_little_data():
    """Ten days of hourly rows on a month-end grid average into one point: 26 naming the
    grid and --freq (it used to read as a constant target)."""
    stamps = pd.date_range("2024-01-01", periods=240, freq="h")
    frame = pd.DataFrame({"timestamp": stamps, "target": np.sin(np.arange(240) / 5.0)})
    filled = interpolate_series(frame, parse_freq("M"), [12], 12, "auto")
    assert filled.grid.n_grid == 1 and filled.grid.n_merged_into_shared_slot == 240
    with pytest.raises(InsufficientDataError, match="ME grid holds a single observed point.*"
                       "omit --freq") as refused:
        check_feasible(filled.timestamps, filled.values, filled.observed, filled.grid.freq,
                       lookback=12, horizon=1, val_size=0.1, test_size=0.2)
    assert refused.value.exit_code == 26


def test_a_freq_finer_than_the_data_is_refused_before_the_grid_is_filled():
    """Daily rows given --freq h would be 23 invented points in every 24: 20 naming --freq.
    The data's own step passes, with gaps or without."""
    stamps = pd.date_range("2024-01-01", periods=120, freq="D")
    frame = pd.DataFrame({"timestamp": stamps, "target": np.sin(np.arange(120) / 3.0)})
    with pytest.raises(InvalidArgumentError, match="--freq h is finer than the data.*median "
                       "24 steps apart.*96% of its points would be invented.*Omit --freq"
                       ) as refused:
        interpolate_series(frame, parse_freq("h"), [24, 168], 24, "auto", freq_given=True)
    assert refused.value.exit_code == 20
    with_gaps = frame.drop(index=[5, 6, 40, 77, 78, 79])
    for given in (frame, with_gaps):
        assert interpolate_series(given, parse_freq("D"), [7], 7, "auto",
                                  freq_given=True).grid.n_grid == 120


def test_only_seasons_seen_twice_in_train_are_usable():
    assert usable_seasons([48, 336], n_train=600) == [48]
    assert usable_seasons([48, 336], n_train=700) == [48, 336]
    assert usable_seasons([52], n_train=60) == [1]

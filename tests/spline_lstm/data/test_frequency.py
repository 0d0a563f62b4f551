import pandas as pd
import pytest

from contracts.errors import InvalidArgumentError
from spline_lstm.data.frequency import (
    infer_freq,
    infer_seasons,
    nominal_step,
    parse_freq,
    usable_seasons,
)
from spline_lstm.data.interpolate import interpolate_series
from spline_lstm.models.prediction import future_timestamps

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


def test_only_seasons_seen_twice_in_train_are_usable():
    assert usable_seasons([48, 336], n_train=600) == [48]
    assert usable_seasons([48, 336], n_train=700) == [48, 336]
    assert usable_seasons([52], n_train=60) == [1]

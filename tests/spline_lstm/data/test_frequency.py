import pandas as pd
import pytest

from contracts.errors import InvalidArgumentError
from spline_lstm.data.frequency import (
    infer_freq,
    infer_seasons,
    parse_freq,
    usable_seasons,
)


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

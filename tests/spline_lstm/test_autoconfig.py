import pytest

from spline_lstm.autoconfig import (
    choose_batch_size,
    choose_lookback,
    choose_max_gap,
    choose_segment_length,
)


@pytest.mark.parametrize("lookback,season,expected", [(104, 52, 13), (96, 48, 12), (24, 12, 3),
                                                      (48, 24, 6), (20, 1, 2), (8, 52, 1)])
def test_segments_are_whole_fractions_of_the_season_about_8_per_window(lookback, season, expected):
    assert choose_segment_length(lookback, season) == expected


def test_lookback_is_two_seasons_when_the_data_allows():
    assert choose_lookback([52], 1, 2284, 0.7) == 104
    assert choose_lookback([48, 336], 48, 4032, 0.7) == 96
    assert choose_lookback([12], 12, 144, 0.7) == 24
    assert choose_lookback([24], 1, 40, 0.7) == 8  # no season fits twice in train: the minimum
    assert choose_lookback([12], 1, 50, 0.7) == 17  # leaves room for train windows


def test_default_max_gap_is_a_season():
    assert choose_max_gap([52]) == 52 and choose_max_gap([4]) == 12


@pytest.mark.parametrize("windows,expected", [(5000, 64), (512, 64), (300, 37), (65, 8), (20, 8)])
def test_batch_size_gives_small_train_splits_at_least_8_steps_per_epoch(windows, expected):
    assert choose_batch_size(windows) == expected

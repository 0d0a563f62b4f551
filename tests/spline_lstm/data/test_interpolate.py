import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.errors import InputSchemaError
from spline_lstm.data.interpolate import (
    fill_gaps,
    gap_runs,
    interpolate_series,
    regularize,
)


def _gappy(n: int, missing: list[int], season: int = 24, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    truth = 10 + 0.05 * t + 3 * np.sin(2 * np.pi * t / season) + rng.normal(0, 0.1, n)
    observed = np.ones(n, dtype=bool)
    observed[missing] = False
    values = np.where(observed, truth, np.nan)
    return truth, values, observed


@settings(max_examples=60, deadline=None)
@given(data=st.data(), method=st.sampled_from(["auto", "linear", "pchip", "seasonal"]))
def test_observed_points_are_kept_exactly_and_gaps_filled(data, method):
    n = data.draw(st.integers(30, 200))
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    mask[0] = mask[-1] = True
    values = np.where(mask, np.random.default_rng(n).normal(size=n).cumsum(), np.nan)
    before = values.copy()
    filled, summary = fill_gaps(values, mask, season=12, method=method)
    assert np.array_equal(filled[mask], values[mask])
    assert np.isfinite(filled).all()
    assert summary["n_filled"] == int((~mask).sum())
    assert np.array_equal(values, before, equal_nan=True)  # input untouched


def test_a_gap_longer_than_max_gap_is_refused_with_its_timestamps():
    _, values, observed = _gappy(100, list(range(40, 46)))
    stamps = pd.date_range("2024-01-01", periods=100, freq="h")
    with pytest.raises(InputSchemaError) as caught:
        fill_gaps(values, observed, max_gap=5, timestamps=stamps)
    message = caught.value.message
    assert caught.value.exit_code == 25
    assert "6 missing steps from 2024-01-02 16:00:00 to 2024-01-02 21:00:00" in message
    assert "--max-gap" in message
    fill_gaps(values, observed, max_gap=6, timestamps=stamps)  # exactly at the limit: fine


def test_filling_uses_nothing_after_the_gap_end():
    truth, values, observed = _gappy(120, list(range(50, 60)))
    filled, _ = fill_gaps(values, observed, season=24)
    later = values.copy()
    later[61:] += 100.0  # change every observation after the gap's right end
    filled_later, _ = fill_gaps(later, observed, season=24)
    assert np.array_equal(filled[50:60], filled_later[50:60])


def test_seasonal_fill_beats_a_cubic_bridge_on_a_long_seasonal_gap():
    truth, values, observed = _gappy(24 * 10, list(range(150, 170)))
    seasonal, _ = fill_gaps(values, observed, season=24, method="seasonal")
    cubic, _ = fill_gaps(values, observed, season=24, method="pchip")
    gap = ~observed
    rmse = lambda f: np.sqrt(np.mean((f[gap] - truth[gap]) ** 2))  # noqa: E731
    assert rmse(seasonal) < 0.5 * rmse(cubic)


def test_gap_runs_finds_every_run():
    observed = np.array([1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1], dtype=bool)
    starts, lengths = gap_runs(observed)
    assert starts.tolist() == [1, 4, 7] and lengths.tolist() == [2, 1, 3]


def test_regularize_puts_rows_on_the_grid_and_marks_gaps():
    frame = pd.DataFrame({"timestamp": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 01:00",
                                                       "2024-01-01 03:00", "2024-01-01 04:00:10"], format="ISO8601"),
                          "target": [1.0, 2.0, 4.0, 5.0]})
    grid, values, observed, notes = regularize(frame, pd.tseries.frequencies.to_offset("h"))
    assert len(grid) == 5 and observed.tolist() == [True, True, False, True, True]
    assert values[[0, 1, 3, 4]].tolist() == [1.0, 2.0, 4.0, 5.0]
    assert notes["n_off_grid"] == 1


def test_regularize_handles_calendar_months():
    stamps = pd.date_range("2020-01-01", periods=12, freq="MS").delete([4, 5])
    frame = pd.DataFrame({"timestamp": stamps, "target": np.arange(10.0)})
    grid, values, observed, _ = regularize(frame, pd.tseries.frequencies.to_offset("MS"))
    assert len(grid) == 12 and (~observed).sum() == 2
    assert grid[4] == pd.Timestamp("2020-05-01")


def _seasonal_fill_gap_by_gap(values, observed, season):
    """Reference: the plain definition, one gap at a time from left to right."""
    out = fill_gaps(values, observed, season=season, method="pchip")[0]  # fallback fills
    starts, lengths = gap_runs(observed)
    for start, length in zip(starts, lengths):
        a, b = start - 1, start + length
        shift = season * int(np.ceil((length + 1) / season))
        if a - shift < 0:
            continue
        t = np.arange(1, length + 1) / (length + 1)
        reference_bridge = out[a - shift] + t * (out[b - shift] - out[a - shift])
        out[start:b] = out[a] + t * (out[b] - out[a]) + out[a + 1 - shift:b - shift] \
            - reference_bridge
    return out


@pytest.mark.parametrize("layout", ["random", "chained"])
def test_vectorised_seasonal_fill_equals_the_gap_by_gap_definition(layout):
    n, season = 24 * 60, 24
    rng = np.random.default_rng(3)
    observed = np.ones(n, dtype=bool)
    if layout == "random":
        for start in rng.integers(1, n - 30, size=80):
            observed[start:start + rng.integers(1, 30)] = False
    else:  # the same hours missing every day: each gap's reference is the previous gap
        for day in range(1, 59):
            observed[day * season + 5:day * season + 9] = False
    observed[[0, -1]] = True
    values = np.where(observed, rng.normal(size=n).cumsum(), np.nan)
    filled, summary = fill_gaps(values, observed, season=season, method="seasonal")
    assert summary["n_gaps_seasonal"] > 10
    np.testing.assert_allclose(filled, _seasonal_fill_gap_by_gap(values, observed, season),
                               rtol=0, atol=1e-9)


def test_default_max_gap_is_a_season():
    from spline_lstm.data.interpolate import choose_max_gap

    assert choose_max_gap([52]) == 52 and choose_max_gap([4]) == 12


def _microsecond_steps_then_a_jump() -> pd.DataFrame:
    start = pd.Timestamp("2000-01-01")
    stamps = [start, start + pd.Timedelta(1, "us"), start + pd.Timedelta(2, "us"),
              start + pd.Timedelta(days=60)]
    return pd.DataFrame({"timestamp": stamps, "target": [1.0, 2.0, 3.0, 4.0]})


def test_a_grid_the_gap_rule_must_refuse_is_refused_before_it_is_built():
    from spline_lstm.data.frequency import infer_freq

    frame = _microsecond_steps_then_a_jump()
    step = infer_freq(frame["timestamp"])  # the most common step: one microsecond
    with pytest.raises(InputSchemaError, match=r"5,184,000,000,001 points for 4 observed "
                                               r"values, so some gap exceeds --max-gap 12") as err:
        interpolate_series(frame, step, [1], max_gap=12, fill_method="auto")
    assert err.value.exit_code == 25


def test_a_grid_too_large_to_hold_is_refused_whatever_the_max_gap():
    frame = _microsecond_steps_then_a_jump()
    too_large = "more than 500,000,000; give a coarser --freq"
    with pytest.raises(InputSchemaError, match=too_large) as err:
        interpolate_series(frame, pd.tseries.frequencies.to_offset("us"), [1],
                           max_gap=10**13, fill_method="auto")
    assert err.value.exit_code == 25


def test_a_subnormal_secant_gives_a_zero_slope_without_overflow_warnings():
    import warnings

    from spline_lstm.data.gap_fill import _pchip_slope

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail here
        slopes = _pchip_slope(np.array([1e-310, 2.0, -1.0]), np.array([1.0, 2.0, 1.0]))
    np.testing.assert_array_equal(slopes, [0.0, 2.0, 0.0])

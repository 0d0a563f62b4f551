"""The rolling MSTL seasonal adjustment only looks back and inverts exactly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.errors import InvalidArgumentError
from spline_lstm.transforms.seasonal_adjust import (
    MAX_DECOMPOSITIONS,
    SeasonalAdjuster,
    mstl_components,
    mstl_seasonal,
)


def _seasonal_series(n: int, seed: int = 0, season: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50 + 0.1 * t + 5 * np.sin(2 * np.pi * t / season) + rng.normal(0, 0.5, n)


def test_mstl_seasonal_extends_the_last_cycle_and_skips_seasons_without_two_cycles():
    values = _seasonal_series(60)
    total = mstl_seasonal(values, [12, 48], 84)  # 48 has no two cycles in 60 points
    np.testing.assert_allclose(total[60:72], total[48:60])
    np.testing.assert_allclose(total[72:84], total[48:60])
    np.testing.assert_allclose(mstl_seasonal(values, [12], 84), total)


def _recording_stl(monkeypatch, jumps_of_one: bool = False) -> list[dict]:
    import statsmodels.tsa.seasonal as seasonal_module

    real, calls = seasonal_module.STL, []

    def stl(x, **settings):
        if jumps_of_one:
            settings.update(seasonal_jump=1, trend_jump=1, low_pass_jump=1)
        calls.append(settings)
        return real(x, **settings)

    monkeypatch.setattr(seasonal_module, "STL", stl)
    return calls


def test_mstl_components_are_statsforecasts_mstl_but_for_the_loess_jumps(monkeypatch):
    from statsforecast.mstl import mstl

    values = np.random.default_rng(3).normal(size=900).cumsum()
    _recording_stl(monkeypatch, jumps_of_one=True)
    components = mstl_components(values, [168, 24])
    reference = mstl(values, [24, 168])
    np.testing.assert_array_equal(components[24], reference["seasonal24"].to_numpy())
    np.testing.assert_array_equal(components[168], reference["seasonal168"].to_numpy())
    np.testing.assert_array_equal(mstl_components(values, [52])[52],
                                  mstl(values, 52)["seasonal"].to_numpy())


def test_mstl_components_use_rs_stl_windows_and_jumps(monkeypatch):
    calls = _recording_stl(monkeypatch)
    mstl_components(_seasonal_series(1000, season=24), [24, 168])
    # R: t.window = nextodd(ceiling(1.5 period / (1 - 1.5 / s.window))), l.window =
    # nextodd(period), each jump ceiling(window / 10); two iterations over both seasons.
    expected = [dict(period=24, seasonal=11, trend=43, low_pass=25,
                     seasonal_jump=2, trend_jump=5, low_pass_jump=3),
                dict(period=168, seasonal=15, trend=281, low_pass=169,
                     seasonal_jump=2, trend_jump=29, low_pass_jump=17)] * 2
    assert [{k: call[k] for k in expected[0]} for call in calls] == expected


def test_mstl_components_stay_close_to_every_point_loess():
    t = np.arange(1000)
    values = (_seasonal_series(1000, season=24) + 3 * np.sin(2 * np.pi * t / 168)
              + np.random.default_rng(5).normal(0, 1, 1000).cumsum() * 0.2)
    from statsforecast.mstl import mstl

    fast = mstl_components(values, [24, 168])
    exact = mstl(values, [24, 168])
    for m in (24, 168):
        gap = fast[m] - exact[f"seasonal{m}"].to_numpy()
        assert np.sqrt(np.mean(gap ** 2)) < 0.02 * np.std(fast[m]), m


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000), horizon=st.integers(1, 12), cut=st.integers(40, 110))
def test_a_seasonal_value_depends_only_on_points_at_least_one_horizon_before_it(seed, horizon, cut):
    values = _seasonal_series(120, seed)
    adjuster = SeasonalAdjuster.for_series([12], horizon, len(values))
    changed = values.copy()
    changed[cut:] += np.random.default_rng(seed).normal(0, 20, len(values) - cut)
    before, after = adjuster.seasonal(values), adjuster.seasonal(changed)
    assert len(before) == len(values) + horizon
    np.testing.assert_array_equal(before[:cut + horizon], after[:cut + horizon])
    assert np.isnan(before[:adjuster.burn_in]).all() and np.isfinite(before[adjuster.burn_in:]).all()


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000), horizon=st.integers(1, 12))
def test_adjustment_inverts_exactly_given_the_true_adjusted_future(seed, horizon):
    values = _seasonal_series(100, seed)
    adjuster = SeasonalAdjuster.for_series([12], horizon, len(values))
    adjusted = adjuster.apply(values)
    origins = np.arange(adjuster.burn_in, len(values) - horizon)
    index = origins[:, None] + np.arange(1, horizon + 1)
    np.testing.assert_allclose(adjuster.invert_forecasts(adjusted[index], values, origins),
                               values[index], rtol=1e-12, atol=1e-9)


def test_forecasts_beyond_the_last_point_add_back_seasonal_values_known_at_the_end():
    values = _seasonal_series(100)
    adjuster = SeasonalAdjuster.for_series([12], 6, len(values))
    future = adjuster.invert_forecasts(np.zeros((1, 6)), values, np.array([99]))
    assert np.isfinite(future).all()
    np.testing.assert_allclose(future[0], adjuster.seasonal(values)[100:106])


def test_a_horizon_beyond_the_lag_is_refused():
    values = _seasonal_series(100)
    adjuster = SeasonalAdjuster.for_series([12], 2, len(values))
    with pytest.raises(InvalidArgumentError, match="2 steps ahead"):
        adjuster.invert_forecasts(np.zeros((3, 4)), values, np.arange(60, 63))


def test_settings_scale_with_the_series_and_refuse_what_cannot_be_adjusted():
    assert SeasonalAdjuster.for_series([12], 1, 200).refresh == 12  # once per season
    half_hourly = SeasonalAdjuster.for_series([48, 336], 1, 4_000)
    assert (half_hourly.history, half_hourly.burn_in) == (3 * 336, 2 * 336 + 1)
    for adjuster, n in ((half_hourly, 4_000),
                        (SeasonalAdjuster.for_series([24, 168], 1, 1_000_000), 1_000_000)):
        assert adjuster.refresh % adjuster.seasons[0] == 0
        assert n / adjuster.refresh <= MAX_DECOMPOSITIONS
    with pytest.raises(InvalidArgumentError, match="--seasonal-adjust none"):
        SeasonalAdjuster.for_series([1], 1, 100)
    with pytest.raises(InvalidArgumentError, match="shorter --season"):
        SeasonalAdjuster.for_series([8760], 1, 100_000)


def test_settings_round_trip_and_identity_when_absent():
    adjuster = SeasonalAdjuster.for_series([12, 24], 3, 500)
    assert SeasonalAdjuster.from_dict(adjuster.to_dict()) == adjuster
    assert SeasonalAdjuster.from_dict(None) == SeasonalAdjuster()  # payloads from before
    values = _seasonal_series(30)
    assert np.array_equal(SeasonalAdjuster().apply(values), values)
    assert SeasonalAdjuster().burn_in == 0


def test_series_adjusted_side_by_side_never_evict_each_others_decompositions(monkeypatch):
    """Each adjuster keeps its own cache: three series in threads decompose once each."""
    from concurrent.futures import ThreadPoolExecutor

    from spline_lstm.transforms import seasonal_adjust

    real, calls = seasonal_adjust.mstl_seasonal, []

    def counting(history, seasons, length):
        calls.append(len(history))
        return real(history, seasons, length)

    monkeypatch.setattr(seasonal_adjust, "mstl_seasonal", counting)
    series = [_seasonal_series(100, seed) for seed in range(3)]
    adjusters = [SeasonalAdjuster.for_series([12], 2, 100) for _ in series]
    first = [a.seasonal(v) for a, v in zip(adjusters, series)]
    per_series = len(calls)
    with ThreadPoolExecutor(3) as pool:  # interleaved asks, as a many-series run makes them
        again = list(pool.map(lambda i: adjusters[i % 3].seasonal(series[i % 3]), range(12)))
    assert len(calls) == per_series  # nothing recomputed: no series evicted another
    for i, values in enumerate(again):
        np.testing.assert_array_equal(values, first[i % 3])


def test_a_backtest_prefix_reuses_the_full_series_decompositions(monkeypatch):
    from spline_lstm.transforms import seasonal_adjust

    real, calls = seasonal_adjust.mstl_components, []

    def counting(history, periods, *args, **kwargs):
        calls.append(len(history))
        return real(history, periods, *args, **kwargs)

    monkeypatch.setattr(seasonal_adjust, "mstl_components", counting)
    monkeypatch.setattr(seasonal_adjust, "DECOMPOSITIONS",
                        seasonal_adjust._ArrayLRU(max_bytes=2**20))
    values = _seasonal_series(240, seed=7)
    full = SeasonalAdjuster.for_series([12], 1, 240)
    whole = full.seasonal(values)
    computed = len(calls)
    prefix = SeasonalAdjuster.for_series([12], 1, 180)  # a backtest window's past
    assert prefix.refresh == full.refresh
    part = prefix.seasonal(values[:180])
    # nothing is new: its last window, which reaches less far ahead, is the same history
    assert len(calls) == computed
    np.testing.assert_array_equal(part[:180], whole[:180])
    changed = values.copy()
    changed[100] += 1.0  # other data is never served from the cache
    assert not np.array_equal(full.seasonal(changed)[110:], whole[110:])


def test_one_decomposition_serves_every_length_it_is_extended_to(monkeypatch):
    from spline_lstm.transforms import seasonal_adjust

    real, calls = seasonal_adjust.mstl_components, []

    def counting(history, periods, *args, **kwargs):
        calls.append(len(history))
        return real(history, periods, *args, **kwargs)

    values = _seasonal_series(120, seed=3)
    fresh = mstl_seasonal(values, [12], 150)  # before the counting and the new cache
    monkeypatch.setattr(seasonal_adjust, "mstl_components", counting)
    monkeypatch.setattr(seasonal_adjust, "DECOMPOSITIONS",
                        seasonal_adjust._ArrayLRU(max_bytes=2**20))
    longer, shorter = mstl_seasonal(values, [12], 150), mstl_seasonal(values, [12], 130)
    assert calls == [120]  # one decomposition for both lengths
    np.testing.assert_array_equal(longer, fresh)
    np.testing.assert_array_equal(shorter, fresh[:130])
    assert not longer.flags.writeable  # callers never change what others may be served
    assert len(mstl_seasonal(values[:-1], [12], 150)) == 150 and calls == [120, 119]

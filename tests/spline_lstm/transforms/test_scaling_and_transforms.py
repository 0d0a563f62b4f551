import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from contracts.errors import InputSchemaError
from spline_lstm.transforms.scaling import Scaler
from spline_lstm.transforms.differencing import Differencer
from spline_lstm.transforms.power import PowerTransform

finite = st.floats(-1e6, 1e6, allow_nan=False)


def test_scaler_statistics_are_those_of_the_train_split_only():
    series = np.concatenate([np.linspace(0, 10, 70), np.full(30, 1e6)])
    train = series[:70]
    standard = Scaler.fit(train, "standard")
    assert standard.offset == pytest.approx(train.mean()) and standard.scale == pytest.approx(train.std())
    minmax = Scaler.fit(train, "minmax")
    assert (minmax.offset, minmax.scale) == (0.0, 10.0)


@settings(max_examples=50, deadline=None)
@given(values=arrays(np.float64, st.integers(3, 60), elements=finite), kind=st.sampled_from(["standard", "minmax"]))
def test_scaler_inverts_exactly_and_leaves_input_untouched(values, kind):
    if np.ptp(values) < 1e-3:
        values = values + np.arange(len(values))
    before = values.copy()
    scaler = Scaler.fit(values, kind)
    np.testing.assert_allclose(scaler.invert(scaler.apply(values)), values, rtol=1e-9, atol=1e-6)
    assert np.array_equal(values, before)


def test_constant_train_split_is_refused():
    with pytest.raises(InputSchemaError, match="constant"):
        Scaler.fit(np.full(20, 3.0), "standard")


@settings(max_examples=50, deadline=None)
@given(values=arrays(np.float64, st.integers(5, 80), elements=st.floats(0.01, 1e5)),
       kind=st.sampled_from(["none", "log", "boxcox"]))
def test_power_transforms_invert_exactly(values, kind):
    transform = PowerTransform.fit(values, kind)
    np.testing.assert_allclose(transform.invert(transform.apply(values)), values, rtol=1e-7)


@settings(max_examples=50, deadline=None)
@given(values=arrays(np.float64, st.integers(40, 120), elements=finite),
       difference=st.sampled_from([0, 1]), seasonal=st.sampled_from([0, 4, 12]),
       horizon=st.integers(1, 15))
def test_differencing_inverts_exactly_given_the_true_future(values, difference, seasonal, horizon):
    diff = Differencer(difference, seasonal)
    w = diff.apply(values)
    assert np.isnan(w[:diff.burn_in]).all() and np.isfinite(w[diff.burn_in:]).all()
    origins = np.arange(diff.burn_in + 1, len(values) - horizon) if len(values) - horizon > diff.burn_in + 1 else np.array([], int)
    if not len(origins):
        return
    index = origins[:, None] + np.arange(1, horizon + 1)
    levels = diff.invert_forecasts(w[index], values, origins)
    np.testing.assert_allclose(levels, values[index], rtol=1e-9, atol=1e-4)

import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from contracts.errors import InputSchemaError
from spline_lstm.transforms.differencing import Differencer
from spline_lstm.transforms.power import PowerTransform
from spline_lstm.transforms.scaling import Scaler

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


def test_values_beyond_float64_once_scaled_become_inf_without_a_console_warning():
    scaler = Scaler(kind="standard", offset=0.0, scale=1e-300)  # fitted on tiny values
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would raise here
        scaled = scaler.apply(np.array([1e-300, 1e100]))
    assert scaled[0] == pytest.approx(1.0) and np.isinf(scaled[1])


def test_constant_train_split_is_refused():
    with pytest.raises(InputSchemaError, match="constant.*check --target-col"):
        Scaler.fit(np.full(20, 3.0), "standard")
    with pytest.raises(InputSchemaError, match="'kms' is constant.*out of the covariate spec"):
        Scaler.fit(np.full(20, 3.0), "standard", column="covariate 'kms'",
                   remedy="leave it out of the covariate spec")


@settings(max_examples=50, deadline=None)
@given(values=arrays(np.float64, st.integers(5, 80), elements=st.floats(0.01, 1e5)),
       kind=st.sampled_from(["none", "log", "boxcox"]))
@example(values=np.full(5, 1.5), kind="boxcox")  # a flat train split: no likelihood optimum
def test_power_transforms_invert_exactly(values, kind):
    with warnings.catch_warnings(record=True) as caught:  # Box-Cox's search: no console notes
        warnings.simplefilter("always")
        transform = PowerTransform.fit(values, kind)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
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


def test_the_chain_applies_in_one_order_inverts_exactly_and_reads_v1_payloads():
    from spline_lstm.transforms.chain import STEP_ORDER, TransformChain, TransformSpec
    from spline_lstm.transforms.preprocessor import Preprocessor
    from tests.helpers import make_processed, make_series

    values = make_series(300, season=12)["target"].to_numpy() + 10
    spec = TransformSpec(power="log", difference=1, seasonal_difference=12)
    data = make_processed(values, horizon=4, seasons=[12], transform=spec)
    chain = data.preprocessor.chain
    assert [step.step for step in chain.steps] == list(STEP_ORDER)
    assert chain.name == spec.name == "log+diff1+sdiff12" and chain.spec == spec
    origins = data.origins["test"]
    back = chain.to_original_units(data.y("test"), data.values, origins)
    np.testing.assert_allclose(back, values[origins[:, None] + np.arange(1, 5)], rtol=1e-5)
    assert TransformChain.from_dict(chain.to_dict()) == chain
    payload = data.preprocessor.to_payload()
    v1 = {k: v for k, v in payload.items() if k not in ("transform_chain", "features")}
    v1.update(power=chain.power.to_dict(), differencing=chain.differencer.to_dict(),
              seasonal_adjustment=chain.adjuster.to_dict())
    assert Preprocessor.from_payload(v1) == data.preprocessor  # artifacts from before still read

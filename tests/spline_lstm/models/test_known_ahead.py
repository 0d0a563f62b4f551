"""Covariates known in advance: encoded on train, the last columns of the model space,
carried over the horizon by the windows and read there by the network (and only them)."""

import shutil

import numpy as np
import pytest

from contracts.errors import InputSchemaError
from spline_lstm.data.covariates import Covariate
from spline_lstm.models.classical import StatsForecaster
from spline_lstm.models.network import ModelSpec, build_model
from spline_lstm.transforms.features import FeatureSet
from tests.helpers import make_processed, make_series

N = 400


def _covariates(n=N):
    t = np.arange(n)
    promo = ((t // 7) % 3 == 0).astype(float)  # known in advance
    region = (t // 50 % 2).astype(float)  # categorical, past-observed
    temperature = 15 + 5 * np.sin(t * 2 * np.pi / 24)
    return (Covariate("promo", "boolean", True, promo),
            Covariate("region", "categorical", False, region, ("east", "west")),
            Covariate("temperature", "numeric", False, temperature))


def test_known_in_advance_columns_come_last_and_categories_are_one_hot():
    features = FeatureSet.fit(_covariates(), train_end=300, scaling="standard")
    assert features.names == ("target", "region=east", "region=west", "temperature", "promo")
    assert features.n_future == 1 and features.known_in_advance == ("promo",)
    stacked = features.stack(np.zeros(N), _covariates())
    assert stacked.shape == (N, 5)
    np.testing.assert_array_equal(stacked[:, 1] + stacked[:, 2], 1.0)
    # a category the train part does not hold: a row of zeros (inside a backtest fold)
    only_east = FeatureSet.fit(_covariates(), train_end=40, scaling="standard")
    assert only_east.names[1:3] == ("region=east", "temperature")
    assert FeatureSet.from_dict(features.to_dict()) == features


def test_payloads_from_before_encoders_still_load():
    old = {"names": ["target", "temperature"], "target_index": 0,
           "covariate_scalers": [{"type": "standard", "offset": 15.0, "scale": 2.0}]}
    features = FeatureSet.from_dict(old)
    assert features.covariate_names == ("temperature",) and features.n_future == 0
    np.testing.assert_allclose(features.covariate_scalers[0].apply(np.array([17.0])), [1.0])


def _data(horizon=3, future=None):
    target = make_series(N, season=24)["target"].to_numpy()
    data = make_processed(target, horizon=horizon, seasons=[24], covariates=_covariates())
    if future is not None:
        data = data.with_covariates(data.covariates, future)
    return data


def test_windows_reach_over_the_horizon_and_the_forward_forecast_needs_future_rows():
    data = _data()
    X, y = data.windows("val")
    lookback = data.preprocessor.lookback
    assert X.shape[1:] == (lookback + 3, 5) and y.shape[1] == 3
    o = data.origins["val"][0]
    np.testing.assert_array_equal(X[0], data.series[o - lookback + 1:o + 4])
    last = np.array([len(data.values) - 1])
    with pytest.raises(InputSchemaError, match=r"\['promo'\] are known in advance.*"
                                               "--future-covariates"):
        data.dataset_at(last, 8, with_targets=False)
    rows = data.preprocessor.features.future_rows(
        (Covariate("promo", "boolean", True, np.array([1.0, 0.0, 1.0])),))
    assert rows.shape == (3, 5) and rows[:, -1].tolist() == [1.0, 0.0, 1.0]
    batch = next(iter(_data(future=rows).dataset_at(last, 8, with_targets=False)))
    assert batch.shape == (1, lookback + 3, 5)
    np.testing.assert_array_equal(batch.numpy()[0, -3:], rows)


def test_the_network_reads_known_columns_ahead_and_nothing_else_there():
    spec = ModelSpec(lookback=12, horizon=3, hidden_units=[4], segment_length=3,
                     n_features=4, n_future=1)
    model = build_model(spec)
    X = np.random.default_rng(0).normal(size=(5, 15, 4)).astype(np.float32)
    base = model.predict(X, verbose=0)
    leak = X.copy()
    leak[:, 12:, :3] += 5.0  # the target and past-observed columns after the origin
    np.testing.assert_allclose(model.predict(leak, verbose=0), base, atol=1e-6)
    ahead = X.copy()
    ahead[:, 12:, 3] += 5.0  # the known-in-advance column over the horizon
    assert not np.allclose(model.predict(ahead, verbose=0), base, atol=1e-3)
    shifted = X.copy()
    shifted[:, :12, 0] += 2.0  # still window-relative on the target
    np.testing.assert_allclose(model.predict(shifted, verbose=0), base + 2.0, atol=1e-4)


def test_a_trending_covariate_is_read_relative_to_the_origin_at_any_level():
    # columns: target, a past-observed trend (1), a level-type past covariate (2), a
    # known-in-advance trend (3); 1 and 3 relative to the window's origin
    spec = ModelSpec(lookback=12, horizon=3, hidden_units=[4], segment_length=3,
                     n_features=4, n_future=1, relative_features=[1, 3])
    model = build_model(spec)
    X = np.random.default_rng(1).normal(size=(5, 15, 4)).astype(np.float32)
    base = model.predict(X, verbose=0)
    risen = X.copy()
    risen[:, :, [1, 3]] += 50.0  # both trends at a level never seen, window and horizon
    np.testing.assert_allclose(model.predict(risen, verbose=0), base, atol=1e-4)
    level = X.copy()
    level[:, :12, 2] += 50.0  # the level-type covariate still counts as a level
    assert not np.allclose(model.predict(level, verbose=0), base, atol=1e-3)
    ahead = X.copy()
    ahead[:, 12:, 3] += 5.0  # a change of the known trend over the horizon still counts
    assert not np.allclose(model.predict(ahead, verbose=0), base, atol=1e-3)


def test_only_a_covariate_whose_validation_split_leaves_the_training_range_is_relative():
    t = np.arange(N, dtype=float)
    income = Covariate("income", "numeric", True, 100.0 + 2.0 * t)  # a trend
    covariates = (*_covariates(), income)
    features = FeatureSet.fit(covariates, train_end=300, scaling="standard", val_end=350)
    assert {e.name: e.relative for e in features.encoders} == {
        "region": False, "temperature": False, "promo": False, "income": True}
    assert features.relative_indices == [features.names.index("income")]
    assert FeatureSet.from_dict(features.to_dict()) == features
    unsplit = FeatureSet.fit(covariates, train_end=300, scaling="standard")  # no val given
    assert unsplit.relative_indices == []


def test_a_covariate_that_does_not_vary_yet_is_silent_in_a_fold_and_refused_in_a_run():
    price = np.r_[np.zeros(200), np.linspace(1.0, 3.0, N - 200)]  # introduced later
    covariates = (Covariate("price", "numeric", True, price),)
    with pytest.raises(InputSchemaError, match="'price' is constant over the train split.*"
                                               "leave it out of the covariate spec"):
        FeatureSet.fit(covariates, train_end=150, scaling="standard")
    fold = FeatureSet.fit(covariates, train_end=150, scaling="standard", val_end=180,
                          may_be_constant=True)
    (encoder,) = fold.encoders
    assert encoder.silent and encoder.scaler is None and not encoder.relative
    np.testing.assert_array_equal(fold.stack(np.ones(N), covariates)[:, 1], 0.0)
    assert FeatureSet.from_dict(fold.to_dict()) == fold
    varying = FeatureSet.fit(covariates, train_end=300, scaling="standard",
                             may_be_constant=True)
    assert not varying.encoders[0].silent  # the lenience changes nothing where it varies


def test_arima_with_the_known_columns_uses_them():
    rng = np.random.default_rng(1)
    n = 300
    promo = (rng.random(n) < 0.3).astype(float)
    target = 10 + 5 * promo + rng.normal(0, 0.3, n)
    frame = make_series(n, season=24).assign(target=target)
    data = make_processed(frame["target"].to_numpy(), horizon=2, seasons=[1], covariates=(
        Covariate("promo", "boolean", True, promo),))
    test = data.origins["test"]
    truth = data.values[test[:, None] + np.arange(1, 3)]
    plain = StatsForecaster("auto_arima").fit(data, fit_end=data.bounds.val_end)
    exog = StatsForecaster("auto_arima", exogenous=True).fit(data, fit_end=data.bounds.val_end)
    assert exog.name == "auto_arima_x"
    error_plain = np.abs(plain.predict(data, test) - truth).mean()
    error_exog = np.abs(exog.predict(data, test) - truth).mean()
    assert error_exog < 0.5 * error_plain
    # a model given regressors stays in the data's unit (classical.py, module docstring)
    assert exog._unit == 1.0 and plain._unit != 1.0


def test_a_request_history_cannot_feed_a_model_with_covariates():
    from contracts.errors import InvalidArgumentError
    from spline_lstm.serving.history import history_data

    data = _data()
    stamps = [str(t) for t in data.timestamps[-60:]]
    with pytest.raises(InvalidArgumentError, match=r"reads covariates \['region', "
                                                   r"'temperature', 'promo'\]"):
        history_data(data.preprocessor, stamps, list(data.values[-60:]))


def test_the_network_without_covariates_is_one_more_forecaster(tmp_path):
    from spline_lstm.models.recurrent import RecurrentForecaster, RecurrentSettings
    from spline_lstm.models.registry import load_forecaster
    from spline_lstm.models.univariate import UnivariateNetwork
    from spline_lstm.windows.preprocess import without_covariates

    settings = RecurrentSettings(hidden_units=(4,), epochs=2, patience=2, batch_size=64)
    data = _data(future=np.zeros((3, 5), np.float32))
    twin = UnivariateNetwork(RecurrentForecaster(settings, tmp_path / "a")).fit(data)
    assert twin.name == "lstm_no_covariates"
    alone = without_covariates(data)
    assert alone.n_features == 1 and np.array_equal(alone.origins["test"], data.origins["test"])
    reference = RecurrentForecaster(settings, tmp_path / "b").fit(alone)
    test = data.origins["test"]
    np.testing.assert_array_equal(twin.predict(data, test), reference.predict(alone, test))
    # it forecasts past the series without the covariates' future rows
    last = np.array([len(data.values) - 1])
    assert np.isfinite(twin.predict(data, last)).all()
    twin.save(tmp_path / "chosen")
    loaded = load_forecaster(tmp_path / "chosen")
    shutil.rmtree(tmp_path / "chosen")  # loaded whole: serving removes a version's download
    assert isinstance(loaded, UnivariateNetwork) and loaded.name == twin.name
    np.testing.assert_array_equal(loaded.predict(data, test), reference.predict(alone, test))


def test_categories_of_another_run_are_matched_by_label():
    features = FeatureSet.fit(_covariates(), train_end=300, scaling="standard")
    codes = (np.arange(N) // 50 % 2).astype(float)
    mine = features.stack(np.zeros(N), _covariates())
    # the same categories, coded against another label order (and one label unknown here)
    theirs = [c if c.name != "region" else Covariate("region", "categorical", False,
                                                       1 - codes, ("west", "east"))
              for c in _covariates()]
    np.testing.assert_array_equal(features.stack(np.zeros(N), tuple(theirs)), mine)
    other = Covariate("region", "categorical", False, np.zeros(N), ("north",))
    unknown = features.stack(np.zeros(N), tuple(
        c if c.name != "region" else other for c in _covariates()))
    np.testing.assert_array_equal(unknown[:, 1:3], 0.0)


def test_model_space_values_beyond_float32_are_refused_by_name_not_turned_inf():
    features = FeatureSet.fit(_covariates(), train_end=300, scaling="standard")
    target = np.zeros(N)
    target[350:] = 1e50  # a scale the train split never had: inf once float32
    with pytest.raises(InputSchemaError) as caught:
        features.stack(target, _covariates())
    message = caught.value.message
    assert caught.value.exit_code == 25
    assert "the target is 1e+50 at grid row 350" in message and "(50 such row(s))" in message
    covariates = list(_covariates())
    covariates[2] = Covariate("temperature", "numeric", False,
                              np.where(np.arange(N) < 390, 15.0, 1e45) + np.sin(np.arange(N)))
    features = FeatureSet.fit(tuple(covariates), train_end=300, scaling="standard")
    with pytest.raises(InputSchemaError, match="covariate 'temperature' is .* at grid row 390"):
        features.stack(np.zeros(N), tuple(covariates))
    assert np.isfinite(features.stack(np.zeros(N), _covariates())).all()  # in range: as before

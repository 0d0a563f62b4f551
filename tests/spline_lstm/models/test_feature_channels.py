"""Several input columns: [n, F] series, [N, L, F] windows, one scaler per column, and a
network that is window-relative on the target channel only."""

import numpy as np
import pytest

from contracts.artifacts import ArtifactLayout
from spline_lstm.models.network import ModelSpec, build_model
from spline_lstm.models.recurrent import RecurrentForecaster, RecurrentSettings
from spline_lstm.store.processed_io import read_processed, write_processed
from tests.helpers import make_processed, make_series


def _two_columns(n=400):
    target = make_series(n, season=24)["target"].to_numpy()
    temperature = 15 + 5 * np.sin(np.arange(n) * 2 * np.pi / 24 + 1.0)
    return target, {"temperature": temperature}


def test_covariates_become_scaled_columns_next_to_the_target():
    target, covariates = _two_columns()
    data = make_processed(target, horizon=3, seasons=[24], covariates=covariates)
    assert data.feature_names == ("target", "temperature") and data.target_index == 0
    assert data.series.shape == (400, 2) and data.X("train").shape[1:] == (24, 2)
    np.testing.assert_array_equal(  # targets: the target column only
        data.y("val"), data.series[data.origins["val"][:, None] + np.arange(1, 4), 0])
    scaler = data.preprocessor.features.covariate_scalers[0]
    train = covariates["temperature"][:data.bounds.train_end]
    assert (scaler.offset, scaler.scale) == pytest.approx((train.mean(), train.std()))
    # F = 1 keeps the same target column
    alone = make_processed(target, horizon=3, seasons=[24])
    np.testing.assert_array_equal(alone.series[:, 0], data.series[:, 0])


def test_covariate_scalers_see_only_train_and_nothing_sees_the_test_split():
    target, covariates = _two_columns()  # 400 points: train [0, 280), val [280, 320)

    def shifted_from(start):
        changed = covariates["temperature"].copy()
        changed[start:] += 100.0
        return make_processed(target, horizon=3, seasons=[24],
                              covariates={"temperature": changed})

    a = make_processed(target, horizon=3, seasons=[24], covariates=covariates)
    assert a.preprocessor.to_payload() == shifted_from(320).preprocessor.to_payload()
    in_val = shifted_from(300)
    assert in_val.preprocessor.features.covariate_scalers == (
        a.preprocessor.features.covariate_scalers)
    # the validation split decides whether the network reads it relative to the origin
    assert in_val.preprocessor.features.relative_indices == [1]
    assert a.preprocessor.features.relative_indices == []


@pytest.mark.parametrize("n_features,target_index", [(1, 0), (3, 0), (3, 1), (3, 2)])
def test_only_the_target_channel_is_made_relative(n_features, target_index):
    spec = ModelSpec(lookback=12, horizon=2, hidden_units=[4], segment_length=3,
                     n_features=n_features, target_index=target_index)
    model = build_model(spec)
    X = np.random.default_rng(0).normal(size=(5, 12, n_features)).astype(np.float32)
    shifted = X.copy()
    shifted[:, :, target_index] += 2.0
    base = model.predict(X, verbose=0)
    # shifting the whole target window shifts the forecast by the same amount
    np.testing.assert_allclose(model.predict(shifted, verbose=0), base + 2.0, atol=1e-4)
    if n_features > 1:  # a covariate is an input like any other: not made relative
        other = X.copy()
        other[:, :, (target_index + 1) % n_features] += 2.0
        assert not np.allclose(model.predict(other, verbose=0), base + 2.0, atol=1e-3)


def test_a_two_column_run_trains_predicts_and_round_trips_its_artifacts(tmp_path):
    target, covariates = _two_columns()
    data = make_processed(target, horizon=3, seasons=[24], covariates=covariates)
    forecaster = RecurrentForecaster(RecurrentSettings(epochs=1, hidden_units=(4,)),
                                     tmp_path / "model").fit(data)
    assert forecaster.spec.n_features == 2
    predicted = forecaster.predict(data, data.origins["test"])
    assert predicted.shape == (len(data.origins["test"]), 3) and np.isfinite(predicted).all()
    layout = ArtifactLayout(tmp_path / "artifacts", "t")
    write_processed(layout, data)
    loaded = read_processed(layout.processed_npz, "t")
    assert loaded.feature_names == ("target", "temperature")
    np.testing.assert_array_equal(loaded.X("test"), data.X("test"))
    np.testing.assert_array_equal(forecaster.predict(loaded, loaded.origins["test"]), predicted)
    with np.load(layout.processed_npz) as stored:
        assert stored["feature_names"].tolist() == ["target", "temperature"]
        assert stored["target_indices"].tolist() == [0]

import os

import numpy as np
import pytest

from contracts.errors import CheckpointSaveError
from spline_lstm.models.network import ModelSpec, build_model, load_checkpoint
from spline_lstm.models.recurrent import build_seeded_model
from spline_lstm.models.training import (
    make_deterministic,
    save_model_atomically,
    train_model,
)


def _batches(X, y, batch_size=16):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((X, y)).batch(batch_size)


def _data(n=96, lookback=8, horizon=2, seed=0):
    rng = np.random.default_rng(seed)
    series = np.sin(np.arange(n + lookback + horizon) / 3) + rng.normal(0, 0.05, n + lookback + horizon)
    X = np.stack([series[i:i + lookback] for i in range(n)])[..., None].astype(np.float32)
    y = np.stack([series[i + lookback:i + lookback + horizon] for i in range(n)]).astype(np.float32)
    return X, y


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_best_and_last_are_loadable_keras_files_and_best_reproduces_its_val_loss(tmp_path, cell):
    X, y = _data()
    make_deterministic(1)
    model = build_model(ModelSpec(lookback=8, horizon=2, hidden_units=[6], cell=cell,
                                  segment_length=3))
    logged = []
    result = train_model(model, _batches(X[:64], y[:64]), _batches(X[64:], y[64:]), epochs=2,
                         patience=5, best_path=tmp_path / "best.keras",
                         last_path=tmp_path / "last.keras", log=logged.append)
    assert len(logged) == 2 and "epoch 1/2" in logged[0]
    assert result.last_epoch == 2 and 1 <= result.best_epoch <= 2
    best = load_checkpoint(tmp_path / "best.keras")
    load_checkpoint(tmp_path / "last.keras")
    reloaded = float(best.evaluate(X[64:], y[64:], batch_size=16, verbose=0))
    assert reloaded == pytest.approx(result.best_val_loss, rel=1e-5)
    assert result.best_val_loss == pytest.approx(min(result.history["val_loss"]))


def test_same_seed_gives_identical_weights(tmp_path):
    X, y = _data()
    weights = []
    for attempt in range(2):
        model = build_seeded_model(ModelSpec(lookback=8, horizon=2, hidden_units=[5]), 7)
        train_model(model, _batches(X[:64], y[:64]), _batches(X[64:], y[64:]), epochs=1,
                    patience=2, best_path=tmp_path / f"b{attempt}.keras",
                    last_path=tmp_path / f"l{attempt}.keras")
        weights.append(np.concatenate([w.ravel() for w in model.get_weights()]))
    assert np.array_equal(weights[0], weights[1])


def test_window_relative_model_follows_a_level_shift():
    make_deterministic(0)
    model = build_model(ModelSpec(lookback=8, horizon=1, hidden_units=[4]))
    X = np.zeros((2, 8, 1), np.float32)
    shifted = X + 100.0
    delta = model.predict(shifted, verbose=0) - model.predict(X, verbose=0)
    np.testing.assert_allclose(delta, 100.0, rtol=1e-5)  # levels pass straight through


def test_an_unwritable_checkpoint_path_is_a_checkpoint_save_error(tmp_path):
    make_deterministic(0)
    model = build_model(ModelSpec(lookback=4, horizon=1, hidden_units=[2]))
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(CheckpointSaveError) as caught:
        save_model_atomically(model, blocker / "best.keras")
    assert caught.value.exit_code == 31


def test_truncated_or_code_carrying_checkpoints_are_refused_with_22(tmp_path):
    import keras

    from contracts.errors import ArtifactContractError, InputFileNotFoundError

    make_deterministic(0)
    model = build_model(ModelSpec(lookback=4, horizon=1, hidden_units=[2]))
    save_model_atomically(model, tmp_path / "good.keras")
    data = (tmp_path / "good.keras").read_bytes()
    (tmp_path / "truncated.keras").write_bytes(data[: len(data) // 2])
    inputs = keras.Input((4, 1))  # a Lambda layer carries Python bytecode: never loaded
    evil = keras.Model(inputs, keras.layers.Lambda(lambda x: x + 1.0)(inputs))
    evil.save(tmp_path / "lambda.keras")
    for name in ("truncated.keras", "lambda.keras"):
        with pytest.raises(ArtifactContractError) as caught:
            load_checkpoint(tmp_path / name)
        assert caught.value.exit_code == 22 and "could not be loaded safely" in caught.value.message
    with pytest.raises(InputFileNotFoundError):
        load_checkpoint(tmp_path / "absent.keras")


@pytest.mark.parametrize("segment_length,unrolled", [(6, True), (3, True), (2, False), (1, False)])
def test_a_short_gru_recurrence_is_unrolled_and_a_long_one_stays_a_loop(segment_length,
                                                                       unrolled):
    spec = ModelSpec(lookback=48, horizon=1, hidden_units=[4, 4], segment_length=segment_length,
                     cell="gru")
    model = build_model(spec)
    recurrent = [layer for layer in model.layers if layer.name.startswith("gru_")]
    assert len(recurrent) == 2 and all(layer.unroll is unrolled for layer in recurrent)


@pytest.mark.parametrize("lookback,season,expected", [(104, 52, 13), (96, 48, 12), (24, 12, 3),
                                                      (48, 24, 6), (20, 1, 2), (8, 52, 1)])
def test_segments_are_whole_fractions_of_the_season_about_8_per_window(lookback, season, expected):
    from spline_lstm.models.recurrent import choose_segment_length

    assert choose_segment_length(lookback, season) == expected


@pytest.mark.parametrize("windows,expected", [(5000, 64), (512, 64), (300, 37), (65, 8), (20, 8)])
def test_batch_size_gives_small_train_splits_at_least_8_steps_per_epoch(windows, expected):
    from spline_lstm.models.recurrent import choose_batch_size

    assert choose_batch_size(windows) == expected


def test_models_run_their_graphs_without_grappler_rewrites_one_thread_per_op(monkeypatch):
    import tensorflow as tf

    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    build_model(ModelSpec(lookback=8, horizon=1, hidden_units=[4]))
    assert tf.config.optimizer.get_experimental_options()["disable_meta_optimizer"] is True
    assert os.environ["TF_NUM_INTRAOP_THREADS"] == "1"  # one thread per op, read at TF's start

"""Streamed windows are exactly the materialised ones, without materialising them."""

import numpy as np

import spline_lstm.store.processed_io as processed_io
from contracts.artifacts import ArtifactLayout
from spline_lstm.store.processed_io import read_processed, write_processed
from spline_lstm.windows.cut import cut_windows
from spline_lstm.windows.streaming import window_dataset
from tests.helpers import make_processed


def test_streamed_batches_equal_cut_windows_in_order():
    series = (np.arange(1000, dtype=np.float32) / 7).reshape(500, 2)
    origins = np.arange(20, 480, 3)
    for target in (0, 1):
        X, y = cut_windows(series, origins, 12, 4, target_index=target)
        batches = list(window_dataset(series, origins, 12, 4, batch_size=32,
                                      target_index=target).as_numpy_iterator())
        assert np.array_equal(np.concatenate([b[0] for b in batches]), X)
        assert np.array_equal(np.concatenate([b[1] for b in batches]), y)
        assert batches[0][0].shape == (32, 12, 2) and batches[0][0].dtype == np.float32


def test_prediction_windows_may_end_at_the_last_point():
    series = np.arange(100, dtype=np.float32)[:, None]
    batches = list(window_dataset(series, np.array([99]), 12, 4, batch_size=8,
                                  with_targets=False).as_numpy_iterator())
    assert np.array_equal(batches[0][0, :, 0], series[88:100, 0])


def test_shuffled_stream_is_seeded_and_covers_every_window_once_per_epoch():
    series = np.arange(300, dtype=np.float32)[:, None]
    origins = np.arange(10, 290)
    def epoch(seed):
        ds = window_dataset(series, origins, 8, 1, batch_size=50, shuffle=True, seed=seed)
        return np.concatenate([b[1][:, 0] for b in ds.as_numpy_iterator()])
    first, again = epoch(3), epoch(3)
    assert np.array_equal(first, again)  # same seed, same order
    assert sorted(first.tolist()) == sorted((origins + 1).astype(float).tolist())
    assert not np.array_equal(first, np.sort(first))
    assert not np.array_equal(first, epoch(4))
    ds = window_dataset(series, origins, 8, 1, batch_size=50, shuffle=True, seed=3)
    one, two = ([b[1][:, 0] for b in ds.as_numpy_iterator()] for _ in range(2))
    one, two = np.concatenate(one), np.concatenate(two)
    assert np.array_equal(one, first)  # a fresh dataset starts from the same order
    assert not np.array_equal(one, two) and sorted(one) == sorted(two)  # new order per epoch


def test_large_splits_are_stored_as_series_and_origins_only(tmp_path, monkeypatch):
    values = np.sin(np.arange(2000) / 10) + np.arange(2000) / 500
    data = make_processed(values, horizon=2, seasons=[24], lookback=24)
    monkeypatch.setattr(processed_io, "MAX_STORED_WINDOW_VALUES", 10_000)
    layout = ArtifactLayout(tmp_path, "t")
    write_processed(layout, data)
    with np.load(layout.processed_npz) as stored:
        assert stored["X_train"].shape == (0, 24, 1)  # train: 1398 windows x 24 > 10,000
        assert stored["X_test"].shape[0] == len(data.origins["test"])  # 397 x 24 < 10,000
    loaded = read_processed(layout.processed_npz, "t")
    assert np.array_equal(loaded.X("train"), data.X("train"))


def test_training_and_prediction_never_materialise_the_windows(tmp_path, monkeypatch):
    from spline_lstm.evaluation.scoring import evaluate_split
    from spline_lstm.models.prediction import forward_forecast
    from spline_lstm.models.recurrent import RecurrentForecaster, RecurrentSettings
    from spline_lstm.windows.processed import ProcessedData

    values = 10 + np.sin(np.arange(600) * 2 * np.pi / 24) + np.arange(600) / 300
    data = make_processed(values, horizon=2, seasons=[24], lookback=24)

    def refuse(self, split):
        raise AssertionError(f"the {split} windows were materialised")

    monkeypatch.setattr(ProcessedData, "windows", refuse)
    forecaster = RecurrentForecaster(RecurrentSettings(epochs=1, hidden_units=(4,)),
                                     tmp_path).fit(data)
    predicted = forecaster.predict(data, data.origins["test"])
    assert predicted.shape == (len(data.origins["test"]), 2) and np.isfinite(predicted).all()
    assert np.isfinite(evaluate_split(data, predicted, "test").metrics["mase"])
    assert len(forward_forecast(forecaster, data).values) == 2


def test_a_forecast_depends_on_its_own_windows_only(tmp_path):
    """The same window gets the same forecast alone, in a call of more than one batch,
    before or after other calls, and from a freshly loaded model."""
    from spline_lstm.models.recurrent import (
        PREDICT_BATCH,
        RecurrentForecaster,
        RecurrentSettings,
    )

    values = 10 + np.sin(np.arange(1400) * 2 * np.pi / 24) + np.arange(1400) / 300
    data = make_processed(values, horizon=2, seasons=[24], lookback=24)
    forecaster = RecurrentForecaster(RecurrentSettings(epochs=1, hidden_units=(4,)),
                                     tmp_path).fit(data)
    every = np.arange(23, len(data.series))  # more windows than one predict batch
    assert len(every) > PREDICT_BATCH
    test = data.origins["test"]
    first = forecaster.predict(data, test)
    everything = forecaster.predict(data, every)
    last_few = forecaster.predict(data, every[-5:])
    assert np.array_equal(forecaster.predict(data, test), first)
    assert np.array_equal(everything[-5:], last_few)
    assert np.array_equal(everything[np.searchsorted(every, test)], first)
    reloaded = RecurrentForecaster.load(tmp_path)  # a fresh model, other calls first
    assert np.array_equal(reloaded.predict(data, every[-5:]), last_few)
    assert np.array_equal(reloaded.predict(data, test), first)

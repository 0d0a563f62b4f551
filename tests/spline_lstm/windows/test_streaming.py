"""Streamed windows are exactly the materialised ones, without materialising them."""

import numpy as np
import pandas as pd

from spline_lstm.data.interpolate import FilledSeries
from spline_lstm.windows.preprocess import PreprocessSettings, preprocess
from spline_lstm.store.processed_io import read_processed, write_processed
from spline_lstm.windows.streaming import window_dataset
from spline_lstm.windows.split import cut_windows
from contracts.artifacts import ArtifactLayout
import spline_lstm.store.processed_io as processed_io


def test_streamed_batches_equal_cut_windows_in_order():
    series = np.arange(500, dtype=np.float32) / 7
    origins = np.arange(20, 480, 3)
    X, y = cut_windows(series, origins, 12, 4)
    batches = list(window_dataset(series, origins, 12, 4, batch_size=32).as_numpy_iterator())
    assert np.array_equal(np.concatenate([b[0] for b in batches]), X)
    assert np.array_equal(np.concatenate([b[1] for b in batches]), y)
    assert batches[0][0].shape == (32, 12, 1) and batches[0][0].dtype == np.float32


def test_shuffled_stream_is_seeded_and_covers_every_window_once_per_epoch():
    series = np.arange(300, dtype=np.float32)
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
    filled = FilledSeries(pd.date_range("2020-01-01", periods=2000, freq="h"), values,
                          np.ones(2000, bool), {"freq": "h"})
    settings = PreprocessSettings(lookback=24, horizon=2, seasons=[24], val_size=0.1,
                                  test_size=0.2, scaling="standard")
    data = preprocess(filled, settings, run_id="big", freq="h", interpolation={}, data_summary={})
    monkeypatch.setattr(processed_io, "MAX_STORED_WINDOW_VALUES", 10_000)
    layout = ArtifactLayout(tmp_path, "big")
    write_processed(layout, data)
    with np.load(layout.processed_npz) as stored:
        assert stored["X_train"].shape == (0, 24, 1)  # train: 1398 windows x 24 > 10,000
        assert stored["X_test"].shape[0] == len(data.origins["test"])  # 397 x 24 < 10,000
    loaded = read_processed(layout.processed_npz, "big")
    assert np.array_equal(loaded.X("train"), data.X("train"))


def test_training_and_prediction_never_materialise_the_windows(tmp_path, monkeypatch):
    from contracts.config import RunConfig
    from spline_lstm.evaluation.scoring import evaluate_split
    from spline_lstm.models.fitting import fit_forecaster
    from spline_lstm.models.prediction import forward_forecast, predict_split
    from spline_lstm.models.network import load_checkpoint
    from spline_lstm.windows.preprocess import ProcessedData

    values = 10 + np.sin(np.arange(600) * 2 * np.pi / 24) + np.arange(600) / 300
    filled = FilledSeries(pd.date_range("2020-01-01", periods=600, freq="h"), values,
                          np.ones(600, bool), {"freq": "h"})
    settings = PreprocessSettings(lookback=24, horizon=2, seasons=[24], val_size=0.1,
                                  test_size=0.2, scaling="standard")
    data = preprocess(filled, settings, run_id="s", freq="h", interpolation={}, data_summary={})

    def refuse(self, split):
        raise AssertionError(f"the {split} windows were materialised")

    monkeypatch.setattr(ProcessedData, "windows", refuse)
    config = RunConfig(run_id="s", epochs=1, hidden_units=[4], lookback=24, horizon=2)
    fit_forecaster(data, config, tmp_path / "best.keras", tmp_path / "last.keras")
    model = load_checkpoint(tmp_path / "best.keras")
    predicted = predict_split(model, data, "test")
    assert predicted.shape == (len(data.origins["test"]), 2) and np.isfinite(predicted).all()
    assert np.isfinite(evaluate_split(data, predicted, "test").metrics["mase"])
    assert len(forward_forecast(model, data)["values"]) == 2

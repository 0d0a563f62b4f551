"""The report names whose scores each table holds: the forecast's or the network's."""

from spline_lstm.reporting.report import _backtest_section, _intervals_section

BACKTEST = {"windows": 2, "step": 120, "mase_mean": 0.3886, "mase_std": 0.0354,
            "mase_per_step_mean": [0.38, 0.40],
            "per_window": [{"window": w, "cut": f"2024-01-0{w}", "train_points": 600 + w,
                            "mase": mase, "baselines": {"naive_last": 0.8, "auto_theta": 0.35}}
                           for w, mase in ((1, 0.424), (2, 0.3532))]}


def _choice(chosen: str) -> dict:
    return {"chosen": chosen, "network": "lstm",
            "chosen_on": ["backtest window 1", "backtest window 2"],
            "candidates": [{"name": "mean(mstl_arima+auto_theta)", "kind": "combination",
                            "backtest_mase": [0.3331, 0.3183]},
                           {"name": "lstm", "kind": "lstm", "backtest_mase": [0.424, 0.3532]}]}


def test_the_backtest_says_its_mase_is_the_networks_and_shows_the_forecasts_beside_it():
    text = "\n".join(_backtest_section(BACKTEST, _choice("mean(mstl_arima+auto_theta)")))
    assert "The network (lstm, with the run's transform and settings) was refitted" in text
    assert "The forecast (mean(mstl_arima+auto_theta)) on the same windows: MASE mean " \
           "0.3257" in text
    assert "| window | block starts | train points | network MASE | forecast MASE |" in text
    assert "| 1 | 2024-01-01 | 601 | 0.424 | 0.3331 | auto_theta (0.35) |" in text
    assert "The network's MASE per step (mean over windows): 0.38, 0.4" in text


def test_no_forecast_column_when_the_network_is_the_forecast_or_was_chosen_elsewhere():
    for choice in (_choice("lstm"), {**_choice("mean(mstl_arima+auto_theta)"),
                                     "chosen_on": ["validation split"]}, None):
        text = "\n".join(_backtest_section(BACKTEST, choice))
        assert "forecast MASE" not in text and "The forecast (" not in text
        assert "| 2 | 2024-01-02 | 602 | 0.3532 | auto_theta (0.35) |" in text
    assert "The network (with the run's transform and settings)" in "\n".join(
        _backtest_section(BACKTEST, None))


def test_the_interval_rows_name_the_forecast():
    scores = {"80": {"coverage": 79.661, "mean_width": 1.0, "interval_score": 1.3}}
    intervals = {"calibration": {"method": "normalised split conformal",
                                 "source": "the validation split", "n_scores": 100,
                                 "power": {"kind": "none"}},
                 "pipeline": scores, "baselines": {"auto_theta": scores}}
    text = "\n".join(_intervals_section(intervals, _choice("mean(mstl_arima+auto_theta)")))
    assert "| **forecast: mean(mstl_arima+auto_theta)** | 80 | 79.7 |" in text  # 0.1 point
    assert "| auto_theta (its own) | 80 |" in text
    assert "| **model** | 80 |" in "\n".join(_intervals_section(intervals, None))
    assert "errors measured in original units" in text


def test_the_interval_section_says_which_space_the_errors_were_measured_in():
    scores = {"80": {"coverage": 80.0, "mean_width": 1.0, "interval_score": 1.3}}
    for power, words in (({"kind": "log", "lambda": 0.0}, "after a log transform"),
                         ({"kind": "boxcox", "lambda": 0.4321},
                          "after a Box-Cox transform (lambda 0.43)")):
        intervals = {"calibration": {"method": "normalised split conformal",
                                     "source": "the backtest blocks", "n_scores": 60,
                                     "power": power},
                     "pipeline": scores, "baselines": {}}
        assert f"errors measured {words}" in "\n".join(_intervals_section(intervals, None))


def test_training_is_the_networks_and_the_latest_inference_is_the_forecast():
    from contracts.records import InferenceSnapshot, TrainingSummary
    from spline_lstm.reporting.report import _training_and_inference

    training = TrainingSummary(run_id="r", best_epoch=3, last_epoch=3, monitor="val_loss",
                               best_val_loss=0.2, best_val_loss_reloaded=0.2,
                               epochs_requested=3, epochs_ran=3, early_stopped=False,
                               batch_size=64, model={}, history={})
    text = "\n".join(_training_and_inference(training, InferenceSnapshot(
        x_shape=[1, 48, 1], origin="2024-02-19 22:00:00", y_true_last=[61.98],
        y_pred_last=[62.52])))
    assert "## Training (the network)" in text
    assert "the network's input shape [1, 48, 1]" in text
    assert "- y_pred (the forecast): ['62.52']" in text

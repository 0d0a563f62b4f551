"""Baselines in a child process: the same BaselineRun as in this process, or the fallback.

Each test that allows children starts its own (its start imports statsforecast: ~1 s).
"""

import numpy as np
import pytest

from spline_lstm import cancel, job_process
from spline_lstm.evaluation import baseline_worker as worker
from spline_lstm.evaluation.baselines import baseline_forecasters, run_baselines
from tests.helpers import make_processed, make_series


@pytest.fixture(scope="module")
def data():
    # no season: the classical models are the quick non-seasonal ones
    return make_processed(make_series(200, season=12)["target"], horizon=3, seasons=[1])


@pytest.fixture
def allowed():
    with job_process.allowed():
        yield


def forecasters(data, origins):
    return baseline_forecasters(data.preprocessor.seasons, origins, classical=True)


def assert_same_run(remote, local):
    assert list(remote.forecasts) == list(local.forecasts)
    for name, forecast in local.forecasts.items():
        np.testing.assert_array_equal(remote.forecasts[name], forecast)
    assert remote.skipped == local.skipped and list(remote.seconds) == list(local.seconds)
    assert sorted(remote.intervals) == sorted(local.intervals)
    for name, levels in local.intervals.items():
        for level, (lo, hi) in levels.items():
            np.testing.assert_array_equal(remote.intervals[name][level][0], lo)
            np.testing.assert_array_equal(remote.intervals[name][level][1], hi)
    assert {n: type(f) for n, f in remote.fitted.items()} == \
        {n: type(f) for n, f in local.fitted.items()}


def test_the_worker_returns_what_this_process_computes(data, allowed):
    test, fit_end = data.origins["test"], data.bounds.val_end
    pending = worker.run_baselines_soon(data, forecasters(data, test), test, fit_end, [80, 95])
    assert pending.future is not None  # sent to the worker, not computed here
    remote = pending.result()
    assert pending.from_child
    local = run_baselines(data, forecasters(data, test), test, fit_end, [80, 95])
    assert_same_run(remote, local)
    assert set(remote.intervals) == {"auto_ets", "auto_arima", "auto_theta"}
    # the fitted models came back: they forecast here from the real data
    np.testing.assert_array_equal(remote.fitted["auto_arima"].predict(data, test),
                                  local.forecasts["auto_arima"])


def test_a_job_sent_on_a_guess_answers_the_same_request(data, allowed):
    val, fit_end = data.origins["val"], data.bounds.train_end
    guess = worker.BaselineJob(
        worker.BaselineInputs(np.array(data.values), data.bounds,
                              worker.SeriesShape(3, [1])),
        forecasters(data, val), val.copy(), fit_end)
    worker.prefetch(guess)
    pending = worker.run_baselines_soon(data, forecasters(data, val), val, fit_end)
    child = job_process._children[worker.CHILD]
    assert pending.future is child.futures[guess.key]  # the guess, not a new job
    assert_same_run(pending.result(), run_baselines(data, forecasters(data, val), val, fit_end))
    other = worker.run_baselines_soon(data, forecasters(data, val[1:]), val[1:], fit_end)
    assert other.future is not pending.future  # another request is another job


def test_a_job_that_fails_there_raises_its_own_error_here(data, allowed):
    beyond = np.array([len(data.values) + 5])  # no such origin: naive-last cannot forecast
    pending = worker.run_baselines_soon(data, forecasters(data, beyond), beyond,
                                        data.bounds.val_end)
    with pytest.raises(IndexError):
        pending.result()
    assert pending.future.exception() is not None  # it failed there, then ran here
    test = data.origins["test"]  # and the worker still serves the next job
    again = worker.run_baselines_soon(data, forecasters(data, test[:3]), test[:3],
                                      data.bounds.val_end)
    assert again.future.result(timeout=60).forecasts["naive_last"].shape == (3, 3)


def test_a_dead_worker_costs_time_not_results(data):
    test, fit_end = data.origins["test"], data.bounds.val_end
    with job_process.allowed():
        # a caller that needs the result at once does not start a child for it
        assert worker.run_baselines_soon(data, forecasters(data, test), test, fit_end,
                                         start=False).future is None
        first = worker.run_baselines_soon(data, forecasters(data, test), test, fit_end)
        child = job_process._children[worker.CHILD]
        child.process.kill()
        assert_same_run(first.result(), run_baselines(data, forecasters(data, test), test,
                                                      fit_end))
        assert first.future.exception() is not None and not first.from_child
    assert not job_process._children and child.process.poll() is not None
    assert not job_process.is_allowed()  # leaving allowed() ends it


def test_without_permission_or_with_covariates_the_baselines_run_here(data):
    test = data.origins["test"]
    assert worker.run_baselines_soon(data, forecasters(data, test), test,
                                     data.bounds.val_end).future is None
    series = make_series(200, season=12)
    with_covariates = make_processed(series["target"], horizon=3, seasons=[1],
                                     covariates={"temp": series["target"].to_numpy() * 0.5})
    assert not worker.eligible(with_covariates) and worker.eligible(data)


def test_a_stop_request_ends_the_wait(data, allowed):
    test = data.origins["test"]
    pending = worker.run_baselines_soon(data, forecasters(data, test), test,
                                        data.bounds.val_end)
    cancel.request_stop("test")
    try:
        with pytest.raises(cancel.StopRequested):
            pending.result()
    finally:
        cancel.reset()

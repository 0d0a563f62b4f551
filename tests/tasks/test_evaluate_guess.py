"""The test split's baselines sent on a guess before the transform is chosen."""

import numpy as np

from contracts.config import RunConfig
from contracts.records import DataSummary
from spline_lstm import job_process
from spline_lstm.evaluation.baseline_worker import BaselineInputs, BaselineJob
from spline_lstm.evaluation.baselines import baseline_forecasters
from spline_lstm.transforms.chain import TransformSpec
from spline_lstm.windows.preprocess import preprocess
from tasks import evaluate
from tasks.preprocess import settings_for
from tests.helpers import make_filled, make_series


def _evaluate_job(config, filled, transform):
    """The job ``evaluate`` asks for once the transform is chosen."""
    data = preprocess(filled, settings_for(config, filled).with_transform(transform),
                      run_id="g", data_summary=DataSummary(source="t", n_rows=len(filled.values)))
    test = data.origins["test"]
    return BaselineJob(BaselineInputs.of(data), baseline_forecasters(
        data.preprocessor.seasons, test, classical=True), test, data.bounds.val_end,
        config.level)


def test_the_guess_is_the_job_evaluate_asks_for(monkeypatch):
    sent = []
    monkeypatch.setattr(evaluate, "prefetch", sent.append)
    filled = make_filled(make_series(400, season=24)["target"], seasons=[24])
    config = RunConfig.build(run_id="g", horizon=6)
    evaluate.guess_test_baselines(config, filled)
    assert sent == []  # outside the command: no side process, no guess
    with job_process.allowed():
        evaluate.guess_test_baselines(config, filled)
    (guess,) = sent
    for transform in (TransformSpec(), TransformSpec(power="log", seasonal_difference=24)):
        assert guess.key == _evaluate_job(config, filled, transform).key
    np.testing.assert_array_equal(guess.inputs.values, filled.values)
    # the simple baselines need no side process
    with job_process.allowed():
        evaluate.guess_test_baselines(RunConfig.build(run_id="g", horizon=6,
                                                      baselines="simple"), filled)
    assert len(sent) == 1

import pytest

from contracts.config import RunConfig
from contracts.errors import InvalidArgumentError


def test_defaults_are_valid_and_frozen():
    config = RunConfig.build(run_id="x")
    assert config.horizon == 1 and config.scaling == "standard"
    with pytest.raises(Exception):
        config.horizon = 3  # type: ignore[misc]


@pytest.mark.parametrize("values,flag", [
    ({"epochs": -1}, "--epochs"),
    ({"epochs": 0}, "--epochs"),
    ({"horizon": 0}, "--horizon"),
    ({"scaling": "robust"}, "--scaling"),
    ({"hidden_units": [64, 0]}, "--hidden-units"),
    ({"dropout": 1.5}, "--dropout"),
    ({"val_size": 0.45, "test_size": 0.45}, "configuration"),
    ({"unknown_flag": 1}, "--unknown-flag"),
    ({"preprocessor_pkl": "p.pkl"}, "configuration"),
])
def test_bad_values_name_the_flag_and_exit_20(values, flag):
    with pytest.raises(InvalidArgumentError) as caught:
        RunConfig.build(run_id="x", **values)
    assert caught.value.exit_code == 20
    assert flag in caught.value.message


def test_bad_run_id_is_rejected_by_the_config():
    with pytest.raises(InvalidArgumentError, match="invalid run_id"):
        RunConfig.build(run_id="../escape")


@pytest.mark.parametrize("values,fragment", [
    ({"covariates": ["temperature"]}, "the synthetic series has none"),
    ({"input": "d.csv", "covariates": ["t", "t"]}, "--covariates: give one or more"),
    ({"input": "d.csv", "future_covariates": "f.csv"}, "only a --covariate-spec declares"),
    ({"processed_npz": "p.npz", "calendar_features": True},
     "--calendar-features: the consumed processed artifacts carry"),
])
def test_covariate_flags_that_cannot_work_together_are_20(values, fragment):
    with pytest.raises(InvalidArgumentError) as caught:
        RunConfig.build(run_id="x", **values)
    assert fragment in caught.value.message

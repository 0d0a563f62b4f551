"""covariate_spec.v1: every problem of a spec listed at once, the right code for each."""

import json

import pytest

from contracts.covariate_spec import check_columns, parse_spec, read_spec
from contracts.errors import (
    InputFileNotFoundError,
    InputSchemaError,
    InvalidArgumentError,
)


def _spec(**changes) -> dict:
    spec = {"schema_version": "covariate_spec.v1",
            "dynamic_covariates": [
                {"name": "temperature", "type": "numeric", "required": True},
                {"name": "workday", "type": "boolean", "required": False,
                 "known_in_advance": True},
                {"name": "region", "type": "categorical", "required": False}],
            "static_covariates": [{"name": "site", "type": "categorical", "required": False}],
            "imputation_policy": {"default": "ffill", "temperature": "spline"}}
    spec.update(changes)
    return spec


def test_a_valid_spec_is_read_with_kinds_and_known_in_advance():
    spec = parse_spec(_spec())
    assert [(i.name, i.kind, i.known_in_advance) for i in spec.dynamic] == [
        ("temperature", "numeric", False), ("workday", "boolean", True),
        ("region", "categorical", False)]
    assert spec.imputation_for("temperature") == "spline"
    assert spec.imputation_for("workday") == "ffill"
    assert parse_spec(spec.to_dict()).to_dict() == spec.to_dict()


def test_declared_covariates_narrow_the_spec_and_must_include_the_required_ones():
    spec = parse_spec(_spec(), declared=["temperature", "workday"])
    assert [i.name for i in spec.dynamic] == ["temperature", "workday"] and not spec.static
    with pytest.raises(InvalidArgumentError) as err:
        parse_spec(_spec(), declared=["workday", "humidity"])
    message = str(err.value)
    assert "declared covariate(s) ['humidity'] are not in the spec" in message
    assert "required covariate(s) ['temperature'] are not declared" in message
    assert "Declared: ['workday', 'humidity']" in message and "spec: ['temperature'" in message


def test_every_problem_is_listed_at_once():
    bad = _spec(schema_version="covariate_spec.v0", extra=1, dynamic_covariates=[
        {"name": "t", "type": "numeric", "required": True},
        {"name": "t", "type": "numeric", "required": True},
        {"name": "", "type": "float", "required": "yes"},
        {"name": "site", "type": "numeric", "required": False, "known_in_advance": "no"}],
        static_covariates=[{"name": "s2", "type": "numeric", "required": False,
                            "known_in_advance": True}],
        imputation_policy={"t": "mean", "ghost": "ffill"})
    with pytest.raises(InvalidArgumentError) as err:
        parse_spec(bad)
    message = str(err.value)
    assert err.value.exit_code == 20
    for fragment in ("schema_version must be 'covariate_spec.v1' (got 'covariate_spec.v0')",
                     "unknown key(s) ['extra']", "lists 't' more than once",
                     "dynamic_covariates[2].name must be a non-empty string",
                     "dynamic_covariates[2].type must be one of",
                     "dynamic_covariates[2].required must be true or false",
                     "known_in_advance must be true or false (got 'no')",
                     "known_in_advance applies to dynamic covariates only",
                     "imputation_policy['t'] must be one of",
                     "imputation_policy names 'ghost'"):
        assert fragment in message, fragment


def test_a_name_in_both_groups_is_refused():
    with pytest.raises(InvalidArgumentError, match=r"\['site'\] are both dynamic and static"):
        parse_spec(_spec(dynamic_covariates=[
            {"name": "site", "type": "numeric", "required": False}]))


def test_spec_files_not_json_missing_or_not_an_object(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text("{'schema_version': 'covariate_spec.v1'}")
    with pytest.raises(InvalidArgumentError, match=r"spec.json is not JSON \(line 1"):
        read_spec(path)
    path.write_text("[1, 2]")
    with pytest.raises(InvalidArgumentError, match="the root must be a JSON object"):
        read_spec(path)
    with pytest.raises(InputFileNotFoundError, match="covariate spec not found"):
        read_spec(tmp_path / "absent.json")
    path.write_text(json.dumps(_spec()))
    assert read_spec(path, ["temperature"]).names == ["temperature"]


def test_columns_missing_from_the_data_are_25_with_the_available_ones():
    spec = parse_spec(_spec(), declared=["temperature", "workday"])
    check_columns(spec, ["timestamp", "load", "temperature", "workday"], "data.csv")
    with pytest.raises(InputSchemaError) as err:
        check_columns(spec, ["timestamp", "load", "temp"], "data.csv")
    assert "['temperature', 'workday'] are not columns of data.csv" in str(err.value)
    assert "available columns: ['timestamp', 'load', 'temp']" in str(err.value)
    with pytest.raises(InputSchemaError, match="name the timestamp or target column"):
        check_columns(spec, ["timestamp", "temperature", "workday"], "data.csv",
                      reserved=("timestamp", "workday"))

"""Covariates through the command: a run that uses past, known-in-advance and calendar
covariates end to end (and again on the consume path); every bad spec, column or future
file gets its SPEC §4 code, a message naming the problem, and leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows.e2e import main
from tests.helpers import FAST_FLAGS, assert_coded_failure, make_series

pytestmark = pytest.mark.flow
HORIZON = 3


def _spec(**changes) -> dict:
    spec = {"schema_version": "covariate_spec.v1",
            "dynamic_covariates": [
                {"name": "temperature", "type": "numeric", "required": True},
                {"name": "promo", "type": "boolean", "required": False,
                 "known_in_advance": True},
                {"name": "region", "type": "categorical", "required": False,
                 "known_in_advance": True}]}
    spec.update(changes)
    return spec


def _frame(n: int = 240) -> pd.DataFrame:
    frame = make_series(n)
    t = np.arange(n)
    return frame.assign(temperature=np.round(15 + 5 * np.sin(t * 2 * np.pi / 24), 2),
                        promo=(t // 5 % 3 == 0).astype(int),
                        region=np.where(t // 24 % 2 == 0, "north", "south"))


def _future(frame: pd.DataFrame, steps: int = HORIZON, region: str = "north") -> pd.DataFrame:
    last = pd.Timestamp(frame["timestamp"].iloc[-1])
    stamps = pd.date_range(last, periods=steps + 1, freq="h")[1:]
    return pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"),
                         "promo": [1, 0, 1, 0][:steps], "region": [region] * steps})


def _write(tmp: Path, frame: pd.DataFrame, spec, future: pd.DataFrame | None) -> list[str]:
    (tmp / "data.csv").write_text(frame.to_csv(index=False))
    spec_path = tmp / "spec.json"
    spec_path.write_text(spec if isinstance(spec, str) else json.dumps(spec))
    flags = ["--input", str(tmp / "data.csv"), "--covariate-spec", str(spec_path),
             "--horizon", str(HORIZON)]
    if future is not None:
        future.to_csv(tmp / "future.csv", index=False)
        flags += ["--future-covariates", str(tmp / "future.csv")]
    return flags


def _case(name: str, tmp: Path) -> list[str]:
    good = _frame()
    if name == "spec not JSON":
        return _write(tmp, good, "{schema_version: covariate_spec.v1", _future(good))
    if name == "wrong schema_version":
        return _write(tmp, good, _spec(schema_version="covariate_spec.v2"), _future(good))
    if name == "duplicate names":
        items = _spec()["dynamic_covariates"]
        return _write(tmp, good, _spec(dynamic_covariates=[*items, items[0]]), _future(good))
    if name == "overlapping names":
        return _write(tmp, good, _spec(static_covariates=[
            {"name": "region", "type": "categorical", "required": False}]), _future(good))
    if name == "required covariate missing from the data":
        return _write(tmp, good.drop(columns="temperature"), _spec(), _future(good))
    if name == "text in a numeric covariate":
        bad = good.astype({"temperature": object})
        bad.loc[40, "temperature"] = "warm"
        return _write(tmp, bad, _spec(), _future(good))
    if name == "future file ends before the horizon":
        return _write(tmp, good, _spec(), _future(good, steps=2))
    if name == "category in the future file never seen":
        return _write(tmp, good, _spec(), _future(good, region="west"))
    if name == "category first seen after the train split":
        late = good.copy()
        late.loc[230:, "region"] = "west"
        return _write(tmp, late, _spec(), _future(good))
    if name == "flag first set after the train split":
        late = good.assign(promo=0)
        late.loc[230:, "promo"] = 1  # as a law in force from the test split on
        return _write(tmp, late, _spec(), _future(good))
    if name == "known in advance without a future file":
        return _write(tmp, good, _spec(), None)
    if name == "future file without covariates known in advance":
        past_only = [{**item, "known_in_advance": False}
                     for item in _spec()["dynamic_covariates"]]
        return _write(tmp, good, _spec(dynamic_covariates=past_only), _future(good))
    raise AssertionError(name)


FAILING = {  # name: (exit code, text the message must contain)
    "spec not JSON": (20, "is not JSON"),
    "wrong schema_version": (20, "schema_version must be 'covariate_spec.v1'"),
    "duplicate names": (20, "lists 'temperature' more than once"),
    "overlapping names": (20, "['region'] are both dynamic and static"),
    "required covariate missing from the data": (25, "['temperature'] are not columns"),
    "text in a numeric covariate": (25, "'temperature' fails 'numeric values'"),
    "future file ends before the horizon": (25, "no 'promo' value for 1 of the 3"),
    "category in the future file never seen": (25, "'region' takes ['west'], never seen"),
    "category first seen after the train split": (25, "'region' takes ['west'] only after"),
    "flag first set after the train split": (25, "'promo' takes ['true'] only after"),
    "known in advance without a future file": (25, "--future-covariates FILE"),
    "future file without covariates known in advance": (20, "is known in advance"),
}


@pytest.mark.parametrize("name", list(FAILING))
def test_bad_covariate_input_gets_its_code_and_leaves_nothing(prefect_harness, tmp_path, capfd,
                                                               name):
    exit_code, fragment = FAILING[name]
    artifacts = tmp_path / "artifacts"
    run_id = "cov-" + "".join(c if c.isalnum() else "-" for c in name)
    assert_coded_failure(main, ["--run-id", run_id, "--artifacts-dir", str(artifacts),
                                *_case(name, tmp_path), *FAST_FLAGS],
                         capfd, exit_code, fragment, artifacts, run_id)


def _gate_wants_the_covariate_values(artifacts: Path, copy: Path) -> None:
    import shutil

    from spline_lstm.store.gate import check_run

    shutil.copytree(artifacts, copy)
    npz = copy / "processed" / "cov-ok" / "processed.npz"
    with np.load(npz) as stored:
        arrays = {k: stored[k] for k in stored.files if k != "covariate_values"}
    np.savez(npz, **arrays)
    problems = check_run(copy, "cov-ok").problems
    assert any("covariate_values has shape None" in p for p in problems), problems


def test_a_run_with_covariates_end_to_end_and_on_the_consume_path(prefect_harness, tmp_path):
    artifacts = tmp_path / "artifacts"
    good = _frame()
    flags = [*_write(tmp_path, good, _spec(), _future(good)), "--calendar-features",
             *FAST_FLAGS]
    assert main(["--run-id", "cov-ok", "--artifacts-dir", str(artifacts), *flags]) == 0
    metrics = json.loads((artifacts / "metrics" / "cov-ok.json").read_text())
    section = metrics["covariates"]
    assert [c["name"] for c in section["used"]][:3] == ["temperature", "promo", "region"]
    # past-observed first, then those known in advance (promo, region, the calendar)
    assert metrics["dataset"]["feature_names"][:5] == [
        "target", "temperature", "promo", "region=north", "region=south"]
    assert section["network_with"]["mase"] == metrics["model_choice"].get(
        "network_test_metrics", metrics["metrics"])["mase"]
    assert np.isfinite(section["network_without"]["mase"]) and section["mase_ratio"] > 0
    report = (artifacts / "reports" / "cov-ok.md").read_text()
    assert "## Covariates" in report and "network without covariates (same seed)" in report
    with np.load(artifacts / "processed" / "cov-ok" / "processed.npz") as npz:
        assert npz["covariate_values"].shape == (240, len(section["used"]))
        assert npz["future_rows"].shape == (HORIZON, len(metrics["dataset"]["feature_names"]))
    predictions = pd.read_csv(artifacts / "predictions" / "cov-ok.csv")
    assert len(predictions) > HORIZON
    _gate_wants_the_covariate_values(artifacts, tmp_path / "tampered")

    consumed = ["--processed-npz", str(artifacts / "processed" / "cov-ok" / "processed.npz"),
                *FAST_FLAGS, "--horizon", str(HORIZON)]
    assert main(["--run-id", "cov-ok", "--artifacts-dir", str(artifacts), "--overwrite",
                 *consumed]) == 0
    again = json.loads((artifacts / "metrics" / "cov-ok.json").read_text())
    assert again["metrics"] == metrics["metrics"]  # same config + seed => same metrics
    assert again["covariates"]["network_without"] == section["network_without"]

import json
import pickle
import shutil

import pytest

from contracts.artifacts import ArtifactLayout
from contracts.errors import HealthCheckFailedError, RunIdMismatchError
from spline_lstm.store.gate import check_run, enforce

pytestmark = pytest.mark.flow


@pytest.fixture
def run_copy(smoke_run, tmp_path):
    artifacts, run_id = smoke_run
    copy = tmp_path / "artifacts"
    shutil.copytree(artifacts, copy)
    return ArtifactLayout(copy, run_id)


def _set_json(path, **changes):
    payload = json.loads(path.read_text())
    payload.update(changes)
    path.write_text(json.dumps(payload))


def test_a_complete_run_passes(run_copy):
    result = check_run(run_copy.root, run_copy.run_id)
    enforce(result)
    assert result.passed and len(result.checked) == 11


@pytest.mark.parametrize("tamper,expected", [
    (lambda l: l.metrics_json.unlink(), "missing metrics/smoke-shared.json"),
    (lambda l: l.meta_json.write_text("{not json"), "meta.json unparsable"),
    (lambda l: l.metrics_json.write_text(l.metrics_json.read_text().replace('"rmse": ', '"rmse": NaN, "x": ', 1)),
     "metrics.rmse is nan"),
    (lambda l: _set_json(l.metrics_json, checkpoints={"best": "x"}), "lacks 'best'/'last'"),
    (lambda l: l.best_checkpoint.write_bytes(l.best_checkpoint.read_bytes()[:100]), "best.keras is not a .keras archive"),
    (lambda l: l.preprocessor_pkl.write_bytes(b"\x80\x05garbage"), "preprocessor.pkl unreadable"),
    (lambda l: l.split_contract_json.write_text(json.dumps({"schema_version": "v0"})), "split_contract.json has schema_version 'v0'"),
])
def test_missing_or_broken_artifacts_fail_with_30(run_copy, tamper, expected):
    tamper(run_copy)
    with pytest.raises(HealthCheckFailedError) as caught:
        enforce(check_run(run_copy.root, run_copy.run_id))
    assert caught.value.exit_code == 30
    assert expected in caught.value.message


def _set_preprocessor_run_id(layout, value):
    payload = pickle.loads(layout.preprocessor_pkl.read_bytes())
    payload["run_id"] = value
    layout.preprocessor_pkl.write_bytes(pickle.dumps(payload))


@pytest.mark.parametrize("tamper,where", [
    (lambda l: _set_json(l.meta_json, run_id="other"), "meta.json"),
    (lambda l: _set_json(l.metrics_json, run_id="other"), "metrics.json"),
    (lambda l: _set_preprocessor_run_id(l, "other"), "preprocessor.pkl"),
    (lambda l: _set_json(l.checkpoint_meta_json, run_id="other"), "checkpoint_meta.json"),
    (lambda l: _set_json(l.metrics_json, checkpoints={"best": "a/other/best.keras", "last": "a/other/last.keras"}),
     "metrics.checkpoints.best directory"),
])
def test_run_id_disagreements_fail_with_27(run_copy, tamper, where):
    tamper(run_copy)
    with pytest.raises(RunIdMismatchError) as caught:
        enforce(check_run(run_copy.root, run_copy.run_id))
    assert caught.value.exit_code == 27
    assert f"{where} says run_id 'other'" in caught.value.message


def test_a_preprocess_only_run_is_named_as_such_not_as_having_no_artifacts(run_copy, tmp_path):
    for path in run_copy.training_artifacts():
        path.unlink()
    enforce(check_run(run_copy.root, run_copy.run_id, require_training=False))
    with pytest.raises(HealthCheckFailedError) as caught:
        enforce(check_run(run_copy.root, run_copy.run_id))
    assert "has no artifacts" not in caught.value.message
    assert "it is a --preprocess-only run" in caught.value.message
    with pytest.raises(HealthCheckFailedError, match="has no artifacts"):
        enforce(check_run(tmp_path / "empty", run_copy.run_id, require_training=False))
    run_copy.meta_json.unlink()  # a broken preprocess-only run: its missing file is named
    with pytest.raises(HealthCheckFailedError, match="missing processed/smoke-shared/meta.json"):
        enforce(check_run(run_copy.root, run_copy.run_id, require_training=False))


def test_the_metrics_json_must_carry_every_spec_key(run_copy):
    payload = json.loads(run_copy.metrics_json.read_text())
    del payload["baselines"]
    run_copy.metrics_json.write_text(json.dumps(payload))
    with pytest.raises(HealthCheckFailedError, match=r"lacks key\(s\) \['baselines'\]"):
        enforce(check_run(run_copy.root, run_copy.run_id))

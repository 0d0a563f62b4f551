import json
import pickle

import numpy as np
import pytest

from contracts.artifacts import ArtifactLayout
from contracts.errors import (
    ArtifactContractError,
    InputFileNotFoundError,
    InputShapeError,
    RunIdMismatchError,
)
from spline_lstm.store.processed_io import read_processed, write_processed
from tests.helpers import make_processed, make_series

RUN_ID = "run-a"


@pytest.fixture
def written(tmp_path):
    data = make_processed(make_series(300)["target"], horizon=3, seasons=[24], lookback=12,
                          run_id=RUN_ID)
    layout = ArtifactLayout(tmp_path / "artifacts", RUN_ID)
    write_processed(layout, data)
    return layout, data


def _edit_json(path, **changes):
    payload = json.loads(path.read_text())
    payload.update(changes)
    path.write_text(json.dumps(payload))


def _edit_npz(path, drop=(), **replace):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files if k not in drop}
    arrays.update(replace)
    np.savez(path, **arrays)


def test_round_trip_gives_the_same_windows_and_preprocessor(written):
    layout, data = written
    loaded = read_processed(layout.processed_npz, RUN_ID)
    for split in ("train", "val", "test"):
        assert np.array_equal(loaded.X(split), data.X(split))
        assert np.array_equal(loaded.y(split), data.y(split))
    assert loaded.preprocessor == data.preprocessor
    assert loaded.data_summary == data.data_summary and loaded.data_summary.source == "test"
    assert loaded.feature_names == ("target",) and loaded.series.shape == (300, 1)


def test_cli_run_id_must_match_the_npz_path(written):
    layout, _ = written
    with pytest.raises(RunIdMismatchError) as caught:
        read_processed(layout.processed_npz, "run-b")
    assert caught.value.exit_code == 27
    assert "'run-b'" in caught.value.message and "'run-a'" in caught.value.message


def test_npz_path_run_id_must_match_its_directory(written, tmp_path):
    layout, _ = written
    moved = tmp_path / "artifacts" / "processed" / "run-c"
    layout.processed_dir.rename(moved)
    with pytest.raises(RunIdMismatchError, match="meta.json .* has run_id 'run-a', expected 'run-c'"):
        read_processed(moved / "processed.npz", "run-c")


def test_meta_json_run_id_must_match(written):
    layout, _ = written
    _edit_json(layout.meta_json, run_id="someone-else")
    with pytest.raises(RunIdMismatchError, match="meta.json .* has run_id 'someone-else'"):
        read_processed(layout.processed_npz, RUN_ID)


def test_preprocessor_payload_run_id_must_match(written):
    layout, _ = written
    payload = pickle.loads(layout.preprocessor_pkl.read_bytes())
    payload["run_id"] = "other-run"
    layout.preprocessor_pkl.write_bytes(pickle.dumps(payload))
    with pytest.raises(RunIdMismatchError, match="fitted for run_id 'other-run'"):
        read_processed(layout.processed_npz, RUN_ID)


def test_missing_npz_key_is_a_contract_error_listing_what_is_there(written):
    layout, _ = written
    _edit_npz(layout.processed_npz, drop=("target_indices",))
    with pytest.raises(ArtifactContractError) as caught:
        read_processed(layout.processed_npz, RUN_ID)
    assert caught.value.exit_code == 22
    assert "lacks required key(s) ['target_indices']" in caught.value.message
    assert "X_train" in caught.value.message  # what is present


def test_split_contract_must_exist_with_the_right_version(written):
    layout, _ = written
    _edit_json(layout.split_contract_json, schema_version="phase0")
    with pytest.raises(ArtifactContractError, match="schema_version 'phase0', expected 'phase1.split_contract.v1'"):
        read_processed(layout.processed_npz, RUN_ID)
    layout.split_contract_json.unlink()
    with pytest.raises(ArtifactContractError, match="split_contract.json is missing"):
        read_processed(layout.processed_npz, RUN_ID)


def test_shape_violations_are_input_shape_errors(written):
    layout, data = written
    _edit_npz(layout.processed_npz, X_val=data.X("val")[:, :-1, :])
    with pytest.raises(InputShapeError) as caught:
        read_processed(layout.processed_npz, RUN_ID)
    assert caught.value.exit_code == 23
    assert "X (val split) has shape" in caught.value.message and "lookback=12" in caught.value.message
    _edit_npz(layout.processed_npz, X_val=data.X("val"), y_val=data.y("val")[:-1])
    with pytest.raises(InputShapeError, match="batch mismatch"):
        read_processed(layout.processed_npz, RUN_ID)


def test_missing_artifacts_are_file_not_found_or_contract_errors(written, tmp_path):
    layout, _ = written
    with pytest.raises(InputFileNotFoundError):
        read_processed(tmp_path / "artifacts" / "processed" / "nope" / "processed.npz", "nope")
    with pytest.raises(ArtifactContractError, match="is not at <artifacts>/processed"):
        odd = tmp_path / "elsewhere.npz"
        odd.write_bytes(layout.processed_npz.read_bytes())
        read_processed(odd, RUN_ID)
    layout.preprocessor_pkl.unlink()
    with pytest.raises(InputFileNotFoundError, match="preprocessor not found"):
        read_processed(layout.processed_npz, RUN_ID)

import json
import os
import pickle

import numpy as np
import pytest

from contracts.errors import ArtifactContractError, RunnerExecError
from spline_lstm.store.atomic import write_json
from spline_lstm.store.unpickler import read_pickled_dict, write_pickled_dict


class _RunsACommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_code_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "preprocessor.pkl"
    path.write_bytes(pickle.dumps({"run_id": "x", "evil": _RunsACommand(marker)}))
    with pytest.raises(ArtifactContractError) as caught:
        read_pickled_dict(path)
    assert caught.value.exit_code == 22
    assert "posix.system" in caught.value.message or "os.system" in caught.value.message
    assert not marker.exists()
    # the same payload through the plain unpickler would have run the command
    pickle.loads(path.read_bytes())
    assert marker.exists()


def test_plain_dicts_and_numpy_arrays_round_trip(tmp_path):
    path = tmp_path / "p.pkl"
    write_pickled_dict(path, {"run_id": "x", "scaler": {"offset": 1.5}, "seasons": [24]})
    assert read_pickled_dict(path) == {"run_id": "x", "scaler": {"offset": 1.5}, "seasons": [24]}
    path.write_bytes(pickle.dumps({"a": np.arange(3)}))
    assert read_pickled_dict(path)["a"].tolist() == [0, 1, 2]


def test_only_builtins_may_be_written(tmp_path):
    with pytest.raises(TypeError, match="only builtins"):
        write_pickled_dict(tmp_path / "p.pkl", {"x": object()})
    assert not (tmp_path / "p.pkl").exists()


def test_truncated_pickle_is_a_contract_error(tmp_path):
    path = tmp_path / "p.pkl"
    path.write_bytes(pickle.dumps({"run_id": "x"})[:-3])
    with pytest.raises(ArtifactContractError):
        read_pickled_dict(path)


def test_failed_writes_leave_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "m.json"
    write_json(path, {"a": 1})
    with pytest.raises(TypeError):
        write_json(path, {"a": object()})  # not serialisable: fails before replacing
    assert '"a": 1' in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_json_has_no_nan_so_undefined_numbers_become_null(tmp_path):
    write_json(tmp_path / "m.json", {"r2": float("nan"), "x": [float("inf"), 1.0]})
    assert json.loads((tmp_path / "m.json").read_text()) == {"r2": None, "x": [None, 1.0]}


def test_unwritable_destination_is_a_runner_error(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    with pytest.raises(RunnerExecError) as caught:
        write_json(blocker / "metrics" / "x.json", {"a": 1})
    assert caught.value.exit_code == 24
    assert "writable" in caught.value.message

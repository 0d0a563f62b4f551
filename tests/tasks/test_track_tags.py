"""The Prefect flow run a tracked run came from, as MLflow tags."""

import types

import pytest

from tasks.track import flow_run_tags


@pytest.mark.parametrize("ui_url, expected", [
    ("http://127.0.0.1:4200/runs/flow-run/abc", "http://127.0.0.1:4200/runs/flow-run/abc"),
    ("None/flow-runs/flow-run/abc", None),  # a temporary server serves no UI
    ("/flow-runs/flow-run/abc", None),
    (None, None),
])
def test_only_a_real_ui_link_is_kept(monkeypatch, ui_url, expected):
    import prefect.runtime

    monkeypatch.setattr(prefect.runtime, "flow_run", types.SimpleNamespace(id="abc",
                                                                           ui_url=ui_url))
    assert flow_run_tags() == {"flow_run_id": "abc", "flow_run_url": expected}


def test_the_command_tracks_in_a_side_process_unless_the_run_promotes(monkeypatch, tmp_path):
    """--promote scores the champion's model, which needs this process's TensorFlow."""
    from contracts.config import RunConfig
    from spline_lstm import job_process
    from tasks import track

    submitted = []
    monkeypatch.setattr(job_process, "submit", lambda *a, **k: submitted.append(a[0]))
    warmed = []
    monkeypatch.setattr(track.tracking_store, "warm_up", lambda d: warmed.append(d))
    plain = RunConfig.build(run_id="r", artifacts_dir=str(tmp_path))
    promoting = RunConfig.build(run_id="r", artifacts_dir=str(tmp_path), promote=True)
    assert not track._in_child(plain)  # no side processes outside the command
    with job_process.allowed():
        assert track._in_child(plain) and not track._in_child(promoting)
        track.warm_up(plain, early=True), track.warm_up(plain, early=False)
        assert submitted == [track.CHILD] and warmed == []  # the child warms up, early
        track.warm_up(promoting, early=True), track.warm_up(promoting, early=False)
        assert submitted == [track.CHILD] and warmed == [tmp_path]  # here, after training

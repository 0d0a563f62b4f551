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

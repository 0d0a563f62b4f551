"""Stage tags are chosen per run (a flow parameter), not fixed when the tasks are imported."""

import inspect

from tasks.logs import as_stage, stage_tags, wants_stage_tags
from tasks.train import train


def test_stage_tags_are_a_per_call_choice(monkeypatch):
    monkeypatch.setenv("SPLINE_STAGE_TAGS", "off")  # the old switch: no longer read
    assert stage_tags("train") == ["stage:train"] and stage_tags("train", False) == []
    assert as_stage(train, "train", True).tags == {"stage:train"}
    assert as_stage(train, "train", False) is train and not train.tags


def test_the_e2e_flow_and_its_deployments_take_stage_tags_as_a_parameter():
    from flows.e2e import _Stages, e2e_flow
    from flows.many import many_series_flow

    assert inspect.signature(e2e_flow.fn).parameters["stage_tags"].default == "auto"
    assert inspect.signature(many_series_flow.fn).parameters["stage_tags"].default == "off"
    stages = _Stages(tags=False)
    assert stages("train", train) is train and stages.current == "train"
    assert _Stages(tags=True)("load-processed", train, "scale-window").tags == {
        "stage:scale-window"}


def test_auto_tags_only_where_the_server_caps_a_stage():
    def unreachable() -> bool:
        raise ConnectionError("no API")

    assert wants_stage_tags("auto", lambda: True) and not wants_stage_tags("auto", lambda: False)
    assert wants_stage_tags("auto", unreachable)  # unknown: a cap that exists must hold
    assert wants_stage_tags("on", lambda: False) and not wants_stage_tags("off", lambda: True)

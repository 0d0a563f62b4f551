import pytest

from tasks.logs import STAGE_TAGS_ENV, stage_tags


@pytest.mark.parametrize("value, expected", [(None, ["stage:train"]), ("on", ["stage:train"]),
                                             ("off", []), ("0", []), (" OFF ", [])])
def test_stage_tags_follow_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(STAGE_TAGS_ENV, raising=False)
    else:
        monkeypatch.setenv(STAGE_TAGS_ENV, value)
    assert stage_tags("train") == expected

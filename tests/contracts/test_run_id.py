from datetime import datetime, timezone

import pytest

from contracts.errors import InvalidArgumentError
from contracts.run_id import scheduled_run_id, validate_run_id


@pytest.mark.parametrize("run_id", ["a", "demo-001", "2026.01.01_x", "A" * 128, "x..y".replace("..", ".")])
def test_valid_run_ids_pass_unchanged(run_id):
    assert validate_run_id(run_id) == run_id


@pytest.mark.parametrize("run_id", ["", "../x", "a/b", "a\\b", "a b", "-lead", ".hidden", "x..y",
                                    "A" * 129, "tab\there", "ü", None, 7])
def test_invalid_run_ids_are_rejected_with_code_20(run_id):
    with pytest.raises(InvalidArgumentError) as caught:
        validate_run_id(run_id)
    assert caught.value.exit_code == 20
    assert "run_id" in caught.value.message


def test_scheduled_run_ids_are_unique_per_time_and_valid():
    first = scheduled_run_id("retrain", datetime(2026, 1, 1, 3, 0, tzinfo=timezone.utc))
    second = scheduled_run_id("retrain", datetime(2026, 1, 2, 3, 0, tzinfo=timezone.utc))
    assert first == "retrain-20260101T030000Z"
    assert first != second


def test_deployment_run_id_tokens_are_filled_from_the_scheduled_time():
    from contracts.run_id import resolve_run_id

    when = datetime(2026, 3, 1, 3, 0, tzinfo=timezone.utc)
    assert resolve_run_id("retrain-{scheduled}", when) == "retrain-20260301T030000Z"
    assert resolve_run_id("smoke-{flow_run}", when, "0a1b2c3d-4e5f") == "smoke-0a1b2c3d"
    assert resolve_run_id("plain", when) == "plain"
    with pytest.raises(InvalidArgumentError):
        resolve_run_id("bad id-{scheduled}", when)

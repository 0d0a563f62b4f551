"""Schema check labels must not depend on which schema pandera happened to build first."""

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from contracts.schemas import ParsedRawSeries, RawSeries, RegularSeries


def _failed_checks(model, frame: pd.DataFrame) -> set[str]:
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        model.validate(frame, lazy=True)
    return set(caught.value.failure_cases["check"].astype(str))


@pytest.mark.parametrize("order", [(RegularSeries, ParsedRawSeries, RawSeries),
                                   (RawSeries, ParsedRawSeries, RegularSeries)])
def test_every_schema_reports_readable_check_labels_in_any_build_order(order):
    frame = pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=3, freq="h"),
                          "target": [1.0, np.inf, 2.0], "target_text": ["1", "inf", "2"],
                          "observed": [True, True, True]})
    for model in order:
        assert "finite (no +/-inf)" in _failed_checks(model, frame), model.__name__
    empty_target = frame.assign(target=np.nan, target_text=None)
    assert "at least one observed target value" in _failed_checks(ParsedRawSeries, empty_target)


@pytest.mark.parametrize("describe", [None, lambda cases: f"described {len(cases) > 0}"])
def test_a_failed_validation_carries_no_pandera_error_into_a_failed_run(describe):
    """Prefect pickles a failed run's exception; with pandera's error as its context it
    took that along (the frame as text) and pandera warned when it was loaded."""
    from prefect.serializers import PickleSerializer

    from contracts.errors import InputSchemaError
    from contracts.schemas import validate_frame

    frame = pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=3, freq="h"),
                          "target": [1.0, np.inf, 2.0], "target_text": ["1", "inf", "2"],
                          "observed": [True, True, True]})
    with pytest.raises(InputSchemaError) as caught:
        validate_frame(RegularSeries, frame, "the series", describe)
    error = caught.value
    assert error.__context__ is None and error.__cause__ is None
    assert ("finite (no +/-inf)" in str(error)) if describe is None else \
        str(error).endswith(": described True")
    serializer = PickleSerializer()
    assert str(serializer.loads(serializer.dumps(error))) == str(error)

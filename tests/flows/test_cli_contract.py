"""The command line, the flow's parameters and the runbook describe the same contract."""

import inspect

import pytest

from contracts import errors
from contracts.config import RunConfig, flag_name
from flows.cli import build_parser
from flows.e2e import e2e_flow, main
from spline_lstm.reporting.failure import runbook_section


def test_flow_parameters_mirror_the_config_fields_with_the_same_defaults():
    signature = inspect.signature(e2e_flow.fn)
    assert list(signature.parameters) == list(RunConfig.model_fields)
    for name, field in RunConfig.model_fields.items():
        if name != "run_id":
            assert signature.parameters[name].default == field.get_default(call_default_factory=True)


def test_help_documents_every_flag_and_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for name in RunConfig.model_fields:
        assert flag_name(name) in text
    for cls in errors.CODED_ERRORS:
        assert f"{cls.exit_code} {cls.code.value}" in text


def test_every_flag_has_help_text():
    for action in build_parser()._actions:
        assert action.help, action.dest


@pytest.mark.parametrize("cls", errors.CODED_ERRORS)
def test_the_runbook_has_cause_action_and_rerun_for_every_exit_code(cls):
    section = runbook_section(cls("x"))
    assert "Cause:" in section and "Action:" in section and "Re-run:" in section

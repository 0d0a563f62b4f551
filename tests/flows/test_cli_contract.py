"""The command line, the flow's parameters and the runbook describe the same contract."""

import argparse
import inspect
import logging
import sys

import pytest

from contracts import errors
from contracts.config import RunConfig, flag_name
from flows.cli import build_parser
from flows.e2e import e2e_flow, main
from spline_lstm.reporting.failure import runbook_section
from spline_lstm.reporting.fleet import SeriesRunFailed


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


def _parsers(parser: argparse.ArgumentParser, path: str):
    """``parser`` and every sub-command under it, with the command line that reaches it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")


@pytest.mark.parametrize("module", ["flows.health", "flows.many", "flows.promote",
                                    "flows.console", "deployments.schedule_status"])
def test_every_operator_command_says_what_it_does_and_what_each_argument_is(module):
    import importlib

    for path, parser in _parsers(importlib.import_module(module).build_parser(), module):
        assert parser.description, path
        for action in parser._actions:
            assert action.help, f"{path} {action.dest}"


def test_descriptions_wrap_and_the_exit_code_table_keeps_its_lines(monkeypatch):
    from flows.promote import build_parser as promote_parser

    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps to the terminal's width
    text = promote_parser().format_help()
    assert max(len(line) for line in text.splitlines() if "exit_code" not in line) <= 100
    assert "\n  0 success | 20 INVALID_ARGUMENT | 21 FILE_NOT_FOUND" in text
    assert "and the champion by 2% MASE." in " ".join(text.split())


@pytest.mark.parametrize("cls", errors.CODED_ERRORS)
def test_the_runbook_has_cause_action_and_rerun_for_every_exit_code(cls):
    section = runbook_section(cls("x"))
    assert "Cause:" in section and "Action:" in section and "Re-run:" in section


def _logged(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:  # noqa: BLE001 - the record carries what the handler would get
        return logging.LogRecord("prefect.task_runs", logging.ERROR, __file__, 1,
                                 "Task run failed with exception: %r", (exc,), sys.exc_info())


@pytest.mark.parametrize("exc, traceback_shown", [
    (errors.InputSchemaError("column 'target' is not numeric"), False),  # the user's to fix
    (SeriesRunFailed({"series_id": "a", "run_id": "r--a", "message": "INPUT_SCHEMA_ERROR"}),
     False),  # the child run has logged its own error; this trace is only the raise
    (errors.RunnerExecError("worker lost"), True),  # not the user's: the trace helps
    (ValueError("a bug"), True),
])
def test_the_console_shows_stack_traces_only_of_errors_that_are_not_the_users(
        exc, traceback_shown):
    from flows.cli import _QuietTracebackFormatter

    text = _QuietTracebackFormatter(logging.Formatter("%(message)s")).format(_logged(exc))
    assert text.startswith("Task run failed with exception")
    assert ("Traceback (most recent call last)" in text) == traceback_shown

"""Command-line plumbing shared by the flows: flags from RunConfig, exit codes, console.

Every failure exits with its SPEC §4 code and prints one JSON line on stderr. Input and
contract errors show no stack trace on the console (it goes to the debug log).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import types
import typing
from typing import Any, Literal, get_args, get_origin

from contracts.config import RunConfig, flag_name
from contracts.errors import (
    InvalidArgumentError,
    PipelineError,
    as_pipeline_error,
    error_line,
    exit_code_table,
)

EXIT_CODES_HELP = f"""exit codes:
{exit_code_table()}
On failure one JSON line is printed on stderr:
  {{"ok": false, "exit_code": N, "error": {{"code": ..., "message": ..., "type": ...}}}}
See runbook/README.md for what to do about each code."""


def quiet_environment() -> None:
    """Settings every entry point wants before Prefect or TensorFlow are imported."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF's C++ chatter is not for operators
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # same speed here, bit-stable results


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports bad flags as INVALID_ARGUMENT (20) instead of exiting 2."""

    def error(self, message: str) -> typing.NoReturn:
        raise InvalidArgumentError(f"{message}; see --help for every option")


def build_parser() -> argparse.ArgumentParser:
    """One flag per RunConfig field, with its description and default as help."""
    parser = ArgumentParser(
        prog="python flows/e2e.py",
        description="Run the Spline-LSTM pipeline (ingest -> spline-interpolate -> "
                    "scale/window -> train -> evaluate -> infer-snapshot -> health-gate) "
                    "as the Prefect flow 'e2e'.",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_flags(parser)
    return parser


def add_config_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup,
                     skip: tuple[str, ...] = ()) -> None:
    """Add one flag per RunConfig field (except ``skip``) to ``parser``."""
    for name, field in RunConfig.model_fields.items():
        if name in skip:
            continue
        default = field.get_default(call_default_factory=True)
        kwargs: dict[str, Any] = {"dest": name, "help": field.description}
        annotation = _strip_optional(field.annotation)
        if annotation is bool:
            kwargs.update(action="store_true", default=default)
        else:
            if get_origin(annotation) is list:
                kwargs.update(nargs="+", type=get_args(annotation)[0], metavar="N")
            elif get_origin(annotation) is Literal:
                kwargs.update(choices=list(get_args(annotation)), type=str)
            else:
                kwargs.update(type=annotation)
            kwargs["default"] = default
            if name == "run_id":
                kwargs["required"] = True
            elif default is not None:
                kwargs["help"] += f" (default: {' '.join(map(str, default)) if isinstance(default, list) else default})"
        parser.add_argument(flag_name(name), **kwargs)


def _strip_optional(annotation):
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def parse_config(argv: list[str] | None) -> RunConfig:
    namespace = build_parser().parse_args(argv)
    return RunConfig.build(**vars(namespace))


class _QuietTracebackFormatter(logging.Formatter):
    """Format as ``inner`` does, minus the traceback of quiet (user-fixable) errors."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, PipelineError) and exc.quiet:
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None,
                                            "exc_text": None})
        return self.inner.format(record)


def quiet_console_tracebacks() -> None:
    """Strip tracebacks of input/contract errors from Prefect's console handler."""
    for handler in logging.getLogger().handlers:
        if type(handler).__name__ == "PrefectConsoleHandler" and \
                not isinstance(handler.formatter, _QuietTracebackFormatter):
            handler.setFormatter(_QuietTracebackFormatter(handler.formatter or logging.Formatter()))


def fail(exc: BaseException) -> int:
    """Print the SPEC §4 JSON line for ``exc`` on stderr; return its exit code."""
    coded = as_pipeline_error(exc)
    sys.stderr.write(error_line(exc) + "\n")
    sys.stderr.flush()
    return coded.exit_code

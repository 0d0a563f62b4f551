"""Command-line plumbing shared by the flows: flags from RunConfig, exit codes, console.

Every failure exits with its SPEC §4 code and prints one JSON line on stderr. Input and
contract errors show no stack trace on the console (it goes to the debug log).
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import signal
import sys
import threading
import types
import typing
from typing import Any, Literal, get_args, get_origin

from contracts.config import RunConfig, flag_name
from contracts.errors import (
    InvalidArgumentError,
    PipelineError,
    RunnerExecError,
    as_pipeline_error,
    error_line,
    exit_code_table,
)
from spline_lstm.cancel import stop_requested
from spline_lstm.models.network import INTRA_OP_THREADS
from spline_lstm.reporting.fleet import SeriesRunFailed
from spline_lstm.tracking.store import set_mlflow_defaults

EXIT_CODES_HELP = f"""exit codes:
{exit_code_table()}
On failure one JSON line is printed on stderr:
  {{"ok": false, "exit_code": N, "error": {{"code": ..., "message": ..., "type": ...}}}}
See runbook/README.md for what to do about each code."""


# Prefect gives its temporary server 20 s to answer; a first run on a fresh PREFECT_HOME on
# a busy machine needs more (database migrations), and then failed with a traceback.
EPHEMERAL_STARTUP_TIMEOUT_S = "90"
_STANDALONE = False  # this process is the command (not a test or a caller of main())


def quiet_environment() -> None:
    """Settings every entry point wants before Prefect or TensorFlow are imported."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS",
                          EPHEMERAL_STARTUP_TIMEOUT_S)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF's C++ chatter is not for operators
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # same speed here, bit-stable results
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(INTRA_OP_THREADS))  # read at TF's start
    set_mlflow_defaults()  # here, before any thread: later, adding variables is unsafe


class HelpFormatter(argparse.HelpFormatter):
    """Descriptions wrap to the terminal's width; a text laid out by hand (the exit-code
    table of the epilog: it has line breaks) is printed as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports bad flags as INVALID_ARGUMENT (20) instead of exiting 2, and
    wraps its descriptions (``HelpFormatter``)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> typing.NoReturn:
        raise InvalidArgumentError(f"{message}; see --help for every option")


def build_parser() -> argparse.ArgumentParser:
    """One flag per RunConfig field, with its description and default as help."""
    parser = ArgumentParser(
        prog="python flows/e2e.py",
        description="Run the Spline-LSTM pipeline (ingest -> spline-interpolate -> "
                    "scale/window -> train -> backtest -> evaluate -> infer-snapshot -> "
                    "report -> health-gate) as the Prefect flow 'e2e'. The forecast is the "
                    "candidate (network, classical, naive or combination) that scores best "
                    "on the backtests before the test split.",
        epilog=EXIT_CODES_HELP)
    add_config_flags(parser)
    return parser


def add_config_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup,
                     skip: tuple[str, ...] = ()) -> None:
    """Add one flag per RunConfig field (except ``skip``) to ``parser``."""
    for name, field in RunConfig.model_fields.items():
        if name in skip:
            continue
        default = field.get_default(call_default_factory=True)
        # argparse %-formats help strings: a literal "%" in a description must be doubled
        help_text = (field.description or "").replace("%", "%%")
        kwargs: dict[str, Any] = {"dest": name, "help": help_text}
        annotation = _strip_optional(field.annotation)
        if annotation is bool:
            kwargs.update(action="store_true", default=default)
        else:
            if get_origin(annotation) is list:
                item = get_args(annotation)[0]
                kwargs.update(nargs="+", type=item, metavar=("NAME" if name == "covariates" else
                                                  "FAMILY" if item is str else "N"))
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
        if isinstance(exc, (PipelineError, SeriesRunFailed)) and exc.quiet:
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None,
                                            "exc_text": None})
        return self.inner.format(record)


def quiet_console_tracebacks() -> None:
    """Strip tracebacks of input/contract errors from Prefect's console handler.

    Idempotent: the commands call it at their start, and every series run calls it again in
    the process it runs in (a Dask worker has Prefect's console handler, not the command's).
    """
    for handler in logging.getLogger().handlers:
        if type(handler).__name__ == "PrefectConsoleHandler" and \
                not isinstance(handler.formatter, _QuietTracebackFormatter):
            handler.setFormatter(_QuietTracebackFormatter(handler.formatter or logging.Formatter()))


def fail(exc: BaseException) -> int:
    """Print the SPEC §4 JSON line for ``exc`` on stderr (last); return its exit code."""
    coded = as_pipeline_error(exc)
    stop_temporary_server()
    write_last_line(error_line(exc))
    return coded.exit_code


class _TrackedStderr:
    """The command's stderr, remembering whether the last write ended its line.

    Prefect's log worker writes a failed delivery's message without a newline ("All
    connection attempts failed") when the temporary server has gone, e.g. after a
    SIGTERM to the process group; the JSON line written next must not share its line.
    Once that JSON line is out, nothing else is written (muted).
    """

    def __init__(self, stream) -> None:
        self._stream = stream
        self.at_line_start = True
        self.muted = False

    def write(self, text: str) -> int:
        if self.muted:
            return len(text)
        written = self._stream.write(text)
        if text:
            self.at_line_start = text.endswith("\n")
        return written

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def write_last_line(line: str) -> None:
    """Write the command's last stderr line on a line of its own; in a command (not a test
    or a caller of main()), stderr stays silent after it."""
    stream = sys.stderr
    tracked = isinstance(stream, _TrackedStderr)
    if tracked and not stream.at_line_start:
        stream.write("\n")
    stream.write(line + "\n")
    stream.flush()
    if tracked:
        stream.muted = True


def standalone(main) -> typing.NoReturn:
    """Run ``main`` as the process's command and exit with its code; its last output line
    is its own.

    Once that line is printed the run is over: a SIGTERM or Ctrl-C that arrives while
    the interpreter tidies up (Prefect's and TensorFlow's exit handlers) has nothing left
    to stop, and is ignored rather than killing the process without its exit code.
    """
    global _STANDALONE
    _STANDALONE = True
    if not isinstance(sys.stderr, _TrackedStderr):
        sys.stderr = _TrackedStderr(sys.stderr)
    code = main()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    # Prefect's exit handlers still send queued events and logs to a running server, and
    # say so on the console ("EventsWorker - Still processing items") when it is slow to
    # take them: after the command's line, nothing more is printed.
    logging.disable(logging.CRITICAL)
    exit_without_teardown(code)


def exit_without_teardown(code: int) -> typing.NoReturn:
    """End the process as Python would, less the interpreter's own teardown.

    Threads are waited for and every exit handler runs (Prefect's log and event workers,
    MLflow's, Dask's, temporary files), as at a normal exit. What is skipped is freeing
    the ~5,000 imported modules and TensorFlow's native state: 3-4 s per command, with
    nothing left to save (every artifact is written, renamed and closed by then).
    """
    # The interpreter's own first step: threading's exit hooks, then joining every
    # non-daemon thread. The hooks matter: an idle ThreadPoolExecutor (MLflow's artifact
    # repositories keep one) ends its workers only when concurrent.futures' hook wakes
    # them; joining them without it waited forever (a co2 run hung after its last line).
    threading._shutdown()
    atexit._run_exitfuncs()  # what the interpreter runs at exit, before its teardown
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def running_as_command() -> bool:
    """True when this process is the command (``standalone``), not a caller of ``main()``."""
    return _STANDALONE


def stop_temporary_server() -> None:
    """Stop Prefect's temporary server now, when this process is the command.

    Prefect stops it at exit and logs "Stopping temporary server" then, after the
    command's last line; stopped here, nothing of Prefect's follows that line.
    """
    from flows.early_start import send_queued_to_server, temporary_server

    ours = temporary_server()
    if not _STANDALONE or (ours is None and "prefect.server.api.server" not in sys.modules):
        return
    servers = [ours] if ours is not None else []
    if "prefect.server.api.server" in sys.modules:  # Prefect started one itself
        from prefect.server.api.server import SubprocessASGIServer

        servers += list(SubprocessASGIServer._instances.values())
    # Send what is queued while it listens; a server killed with us (a signal to the
    # process group) is not waited for.
    if not temporary_server_gone():
        send_queued_to_server(1 if stop_requested() else 5)
    for server in servers:
        try:
            server.stop()
        except Exception:  # noqa: BLE001 - it is going away with the process anyway
            pass


def temporary_server_gone() -> bool:
    """True when this process started Prefect's temporary server and it has exited (e.g.
    a signal to the whole process group): every API call would only be retried."""
    from flows.early_start import temporary_server

    ours = temporary_server()
    if ours is not None:
        return ours.gone()
    if "prefect.server.api.server" not in sys.modules:
        return False
    from prefect.server.api.server import SubprocessASGIServer

    processes = [s.server_process for s in list(SubprocessASGIServer._instances.values())
                 if s.server_process is not None]
    return bool(processes) and all(p.poll() is not None for p in processes)


def orchestrator_error(exc: BaseException) -> PipelineError:
    """A coded error for a failure of Prefect itself (start-up, an API that went away)."""
    if isinstance(exc, PipelineError):
        return exc
    text = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300] if str(exc) else ''}"
    if "ephemeral Prefect API server" in str(exc):
        limit = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "20")
        return RunnerExecError(
            f"Prefect's temporary server did not answer within {limit} s ({text}). The "
            "machine may be busy: raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or "
            "start a server once with scripts/local_stack.sh up and export the "
            "PREFECT_API_URL it prints", quiet=True)
    if isinstance(exc, KeyboardInterrupt):
        return RunnerExecError("stopped by the user (Ctrl-C) before the run started; nothing "
                               "was written", quiet=True)
    api = os.environ.get("PREFECT_API_URL")
    return RunnerExecError(
        f"the Prefect orchestration failed ({text}); "
        + (f"check that the server at PREFECT_API_URL={api} is up (scripts/local_stack.sh "
           "status) or unset PREFECT_API_URL to use a temporary one" if api else
           "re-run; if it persists, start a server with scripts/local_stack.sh up and "
           "export the PREFECT_API_URL it prints"), quiet=True)

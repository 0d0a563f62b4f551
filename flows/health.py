"""The operator's health check: run the health gate (SPEC §7) on an existing run.

    python flows/health.py --run-id X [--artifacts-dir artifacts]

Exit 0 and a JSON summary on stdout when the run passes; 30 (missing / unparsable
artifact) or 27 (run_id mismatch) with the SPEC §4 JSON line on stderr otherwise.
A tracked run's MLflow run must exist and carry the same run_id (name and tag).
No Prefect server is needed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts.run_id import validate_run_id  # noqa: E402
from flows.cli import EXIT_CODES_HELP, ArgumentParser, fail  # noqa: E402
from spline_lstm.store.gate import check_run, enforce  # noqa: E402


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="python flows/health.py",
                            description="Check that a run's artifacts exist, parse, carry "
                                        "their keys and agree on the run_id.",
                            epilog=EXIT_CODES_HELP)
    parser.add_argument("--run-id", required=True, help="The run to check.")
    parser.add_argument("--artifacts-dir", default="artifacts",
                        help="Root directory of all artifacts (default: artifacts).")
    parser.add_argument("--preprocess-only", action="store_true",
                        help="Check only the preprocessing artifacts (a --preprocess-only run).")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        run_id = validate_run_id(args.run_id)
        result = check_run(Path(args.artifacts_dir), run_id,
                           require_training=not args.preprocess_only)
        if result.passed and not args.preprocess_only:
            from spline_lstm.tracking.lifecycle import check_tracking

            problems, mismatches = check_tracking(Path(args.artifacts_dir), run_id)
            result.problems += problems
            result.mismatches += mismatches
        enforce(result)
    except Exception as exc:  # noqa: BLE001 - every failure gets its coded JSON line
        return fail(exc)
    print(json.dumps({"ok": True, **result.to_dict()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``promote`` and ``rollback`` flows: registry changes as Prefect flow runs, so a
schedule, an automation or a person in the UI can make them (same policy as
``spline-lstm models promote``).

    python flows/promote.py NAME [--version V] [--force --reason "why"] [--rollback]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows.cli import quiet_environment  # noqa: E402

quiet_environment()

from prefect import flow, get_run_logger  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402

from tasks.logs import artifact_key  # noqa: E402


def _card(name: str, text: str) -> None:
    try:
        create_markdown_artifact(key=artifact_key("registry", name), markdown=text,
                                 description=f"registry change of {name}")
    except Exception as exc:  # noqa: BLE001 - the UI is a convenience
        get_run_logger().warning("could not attach the registry card: %s", exc)


@flow(name="promote", flow_run_name="promote-{model_name}", validate_parameters=False)
def promote_flow(model_name: str, artifacts_dir: str = "artifacts", version: int | None = None,
                 force: bool = False, reason: str | None = None) -> dict:
    """Promote the candidate (or ``version``) of ``model_name`` by the policy."""
    from spline_lstm.tracking import registry, store
    from tasks.track import who

    client = store.connect(Path(artifacts_dir))
    result = registry.promote(client, model_name, Path(artifacts_dir), version=version,
                              force=force, reason=reason, who=who())
    verdict = "promoted to champion" if result["promoted"] else "not promoted"
    get_run_logger().info("%s version %s %s: %s", model_name, result["version"], verdict,
                          result["reason"])
    _card(model_name, f"# {model_name} version {result['version']}: {verdict}\n\n"
                      f"{result['reason']}\n")
    return result


@flow(name="rollback", flow_run_name="rollback-{model_name}", validate_parameters=False)
def rollback_flow(model_name: str, artifacts_dir: str = "artifacts",
                  reason: str | None = None) -> dict:
    """Swap the champion and rollback aliases of ``model_name``."""
    from spline_lstm.tracking import registry, store
    from tasks.track import who

    client = store.connect(Path(artifacts_dir))
    result = registry.rollback(client, model_name, Path(artifacts_dir), reason=reason,
                               who=who())
    get_run_logger().warning("%s rolled back: champion is version %s", model_name,
                             result["champion"])
    _card(model_name, f"# {model_name} rolled back\n\nchampion: version {result['champion']}"
                      f" (was {result['rollback']}); why: {result['reason']}\n")
    return result


def build_parser():
    from flows.cli import EXIT_CODES_HELP, ArgumentParser
    from flows.console import ARTIFACTS_DIR_HELP, MODEL_NAME_HELP, PROMOTION_POLICY

    parser = ArgumentParser(prog="python flows/promote.py", epilog=EXIT_CODES_HELP,
                            description="Promote (or roll back) a registered model as a "
                                        "Prefect flow run (the same policy as spline-lstm "
                                        "models promote). " + PROMOTION_POLICY)
    parser.add_argument("model_name", help=MODEL_NAME_HELP)
    parser.add_argument("--artifacts-dir", default="artifacts", help=ARTIFACTS_DIR_HELP)
    parser.add_argument("--version", type=int,
                        help="Promote this version instead of the candidate.")
    parser.add_argument("--force", action="store_true",
                        help="Promote without comparing (needs --reason).")
    parser.add_argument("--reason", help="Why (recorded in the history).")
    parser.add_argument("--rollback", action="store_true",
                        help="Roll back instead: the previous champion serves again.")
    return parser


def main(argv: list[str] | None = None) -> int:
    import json

    from flows.cli import fail, orchestrator_error

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except Exception as exc:  # noqa: BLE001
        return fail(exc)
    try:
        if args.rollback:
            state = rollback_flow(args.model_name, args.artifacts_dir, args.reason,
                                  return_state=True)
        else:
            state = promote_flow(args.model_name, args.artifacts_dir, args.version,
                                 args.force, args.reason, return_state=True)
    except BaseException as exc:  # noqa: BLE001 - the orchestrator itself failed
        return fail(orchestrator_error(exc))
    if state.is_completed():
        print(json.dumps({"ok": True, **state.result()}, default=str))
        return 0
    return fail(state.result(raise_on_failure=False))


if __name__ == "__main__":
    from flows.cli import standalone

    standalone(main)

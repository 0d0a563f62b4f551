"""``spline-lstm``: the operator's console for tracked runs and registered models.

    spline-lstm models list
    spline-lstm models show NAME
    spline-lstm models history NAME
    spline-lstm models promote NAME [--version V] [--force --reason "why"]
    spline-lstm models rollback NAME [--reason "why"]
    spline-lstm track --run-id ID [--model-name NAME] [--promote]
    spline-lstm serve [--host 127.0.0.1] [--port 8000] [--model NAME ...]

Every command takes ``--artifacts-dir`` (where the default SQLite store lives) and honours
``MLFLOW_TRACKING_URI``. Output: a readable table, or one JSON object with ``--json``.
Failures exit with their SPEC §4 code and one JSON line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flows.cli import EXIT_CODES_HELP, ArgumentParser, fail, quiet_environment  # noqa: E402
from spline_lstm.tracking.promotion import MARGIN  # noqa: E402

MODEL_NAME_HELP = "Registered model name (spline-lstm models list shows them)."
ARTIFACTS_DIR_HELP = ("Root directory of all artifacts; the default MLflow store is "
                      "ARTIFACTS_DIR/mlflow/mlflow.db (default: artifacts).")
PROMOTION_POLICY = ("Make the candidate (or --version) champion if the policy says so: on "
                    "the candidate's test span it must beat seasonal naive, and the champion "
                    f"by {MARGIN:.0%} MASE.")


def build_parser() -> ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--artifacts-dir", default="artifacts", help=ARTIFACTS_DIR_HELP)
    common.add_argument("--json", action="store_true", help="Print one JSON object.")
    parser = ArgumentParser(
        prog="spline-lstm", epilog=EXIT_CODES_HELP,
        description="Tracked runs and registered models of Spline-LSTM (MLflow: "
                    "MLFLOW_TRACKING_URI, default a SQLite store under the artifacts dir). "
                    "Aliases: candidate (newest run that passed its gate), champion (in "
                    "service), rollback (the champion before).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=ArgumentParser,
                                     help="one of these (each has its own --help):")
    text = "List, inspect, promote and roll back registered models."
    models = commands.add_parser("models", help=text, description=text)
    actions = models.add_subparsers(dest="action", required=True, metavar="ACTION",
                                    parser_class=ArgumentParser,
                                    help="one of these (each has its own --help):")
    # help= is the line in the parent's list, description= heads the command's own --help
    text = "Every registered model and its aliases."
    actions.add_parser("list", parents=[common], help=text, description=text)
    for name, text in (("show", "A model's versions, their runs and aliases."),
                       ("history", "Every alias move of a model: who, when, from, to, why.")):
        actions.add_parser(name, parents=[common], help=text,
                           description=text).add_argument("name", help=MODEL_NAME_HELP)
    promote = actions.add_parser("promote", parents=[common],
                                 help=PROMOTION_POLICY.replace("%", "%%"),  # help is %-formatted
                                 description=PROMOTION_POLICY)
    promote.add_argument("name", help=MODEL_NAME_HELP)
    promote.add_argument("--version", type=int, help="Promote this version instead of the "
                         "candidate.")
    promote.add_argument("--force", action="store_true", help="Promote without comparing "
                         "(needs --reason).")
    promote.add_argument("--reason", help="Why (recorded in the history).")
    text = "Swap champion and rollback: the previous champion serves again."
    rollback = actions.add_parser("rollback", parents=[common], help=text, description=text)
    rollback.add_argument("name", help=MODEL_NAME_HELP)
    rollback.add_argument("--reason", help="Why (recorded in the history).")
    text = ("Log a finished run to MLflow and register it (back-fill after an outage; "
            "idempotent: never two MLflow runs for one run_id).")
    track = commands.add_parser("track", parents=[common], help=text, description=text)
    track.add_argument("--run-id", required=True, help="The finished run (its artifacts are "
                       "under --artifacts-dir).")
    track.add_argument("--model-name", help="Registered model (default: the run's, or its "
                       "input file's name).")
    track.add_argument("--promote", action="store_true", help="Then promote by the policy.")
    text = ("Serve the champions over HTTP (FastAPI on uvicorn; OpenAPI at /docs). Security "
            "from SPLINE_DEV_MODE, SPLINE_API_TOKEN, SPLINE_CORS_ORIGINS, "
            "SPLINE_TRUSTED_HOSTS, SPLINE_MAX_BODY_BYTES; champions re-checked every "
            "SPLINE_RELOAD_SECONDS (5).")
    serve = commands.add_parser("serve", parents=[common], help=text, description=text)
    serve.add_argument("--host", default="127.0.0.1", help="Interface (default 127.0.0.1; "
                       "others only with SPLINE_DEV_MODE=0 and a token).")
    serve.add_argument("--port", type=int, default=8000, help="Port (default 8000).")
    serve.add_argument("--model", action="append", default=[], metavar="NAME",
                       help="Serve this registered model (repeatable; default: all).")
    return parser


def main(argv: list[str] | None = None) -> int:
    quiet_environment()
    try:
        args = build_parser().parse_args(argv)
        result = run(args)
    except Exception as exc:  # noqa: BLE001 - every failure gets its coded JSON line
        return fail(exc)
    print(json.dumps(result, default=str) if args.json else render(args, result))
    return 0


def run(args: argparse.Namespace):
    from spline_lstm.tracking import registry, store

    artifacts_dir = Path(args.artifacts_dir)
    if args.command == "track":
        return _track(args, artifacts_dir)
    if args.command == "serve":
        return _serve(args, artifacts_dir)
    if args.action != "list":
        registry.validate_model_name(args.name)
    client = store.connect(artifacts_dir)
    if args.action == "list":
        return {"models": registry.list_models(client)}
    if args.action == "show":
        return registry.describe(client, args.name)
    if args.action == "history":
        return {"model": args.name, "history": registry.history(client, args.name)}
    if args.action == "promote":
        return registry.promote(client, args.name, artifacts_dir, version=args.version,
                                force=args.force, reason=args.reason)
    return registry.rollback(client, args.name, artifacts_dir, reason=args.reason)


def _track(args: argparse.Namespace, artifacts_dir: Path) -> dict:
    from contracts.artifacts import ArtifactLayout
    from contracts.run_id import validate_run_id
    from spline_lstm.store.atomic import read_json
    from spline_lstm.tracking.lifecycle import default_model_name, track

    run_id = validate_run_id(args.run_id)
    name = args.model_name
    if not name:
        path = ArtifactLayout(artifacts_dir, run_id).metadata_json
        metadata = read_json(path, "metadata") if path.is_file() else {}
        config = metadata.get("config", {})
        name = (metadata.get("tracking") or {}).get("model_name") or config.get("model_name") \
            or default_model_name(config.get("input"))
    return track(artifacts_dir, run_id, model_name=name, promote=args.promote)


def _serve(args: argparse.Namespace, artifacts_dir: Path) -> dict:
    import logging

    import uvicorn

    from spline_lstm.serving.app import create_app
    from spline_lstm.serving.champions import ChampionCache
    from spline_lstm.serving.settings import ServeSettings
    from spline_lstm.tracking import registry, store

    for name in args.model:
        registry.validate_model_name(name)
    settings = ServeSettings.from_env(artifacts_dir, args.host, args.port, tuple(args.model))
    store.connect(artifacts_dir)  # the registry must answer before the server listens
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    app = create_app(settings, ChampionCache(lambda: store.connect(artifacts_dir),
                                             settings.models))
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info",
                server_header=False)
    return {"served": True}


def render(args: argparse.Namespace, result: dict) -> str:
    """A table or a few lines a person reads."""
    if args.command == "serve":
        return "spline-lstm serve: stopped"
    if args.command == "track":
        lines = [f"run {args.run_id}: MLflow run {result['mlflow_run_id']}, "
                 f"{result['model_name']} version {result['model_version']}"]
        if "promotion" in result:
            lines.append(("promoted: " if result["promotion"]["promoted"] else "not promoted: ")
                         + result["promotion"]["reason"])
        return "\n".join(lines)
    if args.action == "list":
        rows = [(m["model"], _aliases(m["aliases"])) for m in result["models"]]
        return _table(("MODEL", "ALIASES"), rows) if rows else "no registered models yet"
    if args.action == "show":
        rows = [(v["version"], ",".join(v["aliases"]) or "-", v["run_id"] or "-",
                 v["created"] or "-", v["promotion"] or "-", v["reason"] or "")
                for v in result["versions"]]
        return f"{result['model']}\n" + _table(
            ("VERSION", "ALIASES", "RUN_ID", "CREATED", "PROMOTION", "REASON"), rows)
    if args.action == "history":
        rows = [(e.get("seq"), e.get("at"), e.get("action"), e.get("alias", "-"),
                 e.get("from_version") or "-", e.get("to_version") or e.get("version") or "-",
                 e.get("by"), e.get("why", "")) for e in result["history"]]
        return _table(("#", "AT", "ACTION", "ALIAS", "FROM", "TO", "BY", "WHY"), rows) \
            if rows else f"{result['model']}: no alias moves yet"
    if args.action == "promote":
        verdict = "promoted to champion" if result["promoted"] else "not promoted"
        return f"{result['model']} version {result['version']}: {verdict}: {result['reason']}"
    return (f"{result['model']}: champion is now version {result['champion']} "
            f"(rollback: version {result['rollback']})")


def _aliases(aliases: dict) -> str:
    return ", ".join(f"{a}={v}" for a, v in sorted(aliases.items())) or "-"


def _table(header: tuple, rows: list[tuple]) -> str:
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


if __name__ == "__main__":
    from flows.cli import standalone

    standalone(main)

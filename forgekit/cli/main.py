"""The `forgekit` command. Subcommands live in `cmd_<name>.py` modules, each exposing
`register(subparsers)`; their imports stay lazy so `forgekit --help` is fast."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

# modules that add subcommands, in the order `--help` lists them (cmd_trajectory adds `runs`)
COMMAND_MODULES = [
    "version", "doctor", "prompts", "eval", "trajectory", "track", "ui", "rag",
    "agent", "mcp", "quality", "pipeline", "schedule",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forgekit",
        description="Build, run and evaluate LLM agents and RAG pipelines.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--config", help="path to forgekit.yaml (default: found from the cwd up)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"forgekit.cli.cmd_{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from forgekit.core.redact import redact_logging

    redact_logging()  # -v logs request bodies: no secret value in them
    if getattr(args, "no_progress", False):  # every bar, not only the eval runner's
        from forgekit.core.progress import set_progress

        set_progress(False)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0
    from forgekit.core.errors import ForgekitError

    # --config holds for this command (and the processes it starts), not for whatever
    # runs in this process after it (main() is called in-process by tests and notebooks)
    previous = os.environ.get("FORGEKIT_CONFIG")
    if args.config:
        os.environ["FORGEKIT_CONFIG"] = args.config
    try:
        return int(func(args) or 0)
    except ForgekitError as e:
        print(f"forgekit: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("forgekit: interrupted", file=sys.stderr)
        return 130
    finally:
        if args.config:
            if previous is None:
                os.environ.pop("FORGEKIT_CONFIG", None)
            else:
                os.environ["FORGEKIT_CONFIG"] = previous


if __name__ == "__main__":
    sys.exit(main())

"""`forgekit doctor`: configured aliases, reachability, embedding model, libraries."""

from __future__ import annotations

import argparse
import json


def run(args: argparse.Namespace) -> int:
    from forgekit.models.doctor import diagnose

    report = diagnose(start_local=not args.no_start)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.render())
    return 0 if report.ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check models, keys, local server and libraries")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--no-start", action="store_true", help="do not start the embedded model server (faster)"
    )
    p.set_defaults(func=run)

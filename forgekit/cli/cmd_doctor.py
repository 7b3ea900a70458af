"""`forgekit doctor`: configured aliases, reachability, embedding model, libraries."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from forgekit.models.doctor import DoctorReport


def run(args: argparse.Namespace) -> int:
    from forgekit.models.doctor import diagnose

    report = diagnose(start_local=not args.no_start)
    _check_store(report)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.render())
    return 0 if report.ok else 1


def _check_store(report: DoctorReport) -> None:
    """The MLflow store: broken by an interrupted set-up or migration?"""
    try:
        from forgekit.core.config import load_config
        from forgekit.tracking.schema import store_problem
        from forgekit.tracking.uri import resolve_tracking_uri

        uri = resolve_tracking_uri(load_config())
        problem = store_problem(uri)
    except Exception as e:  # noqa: BLE001 - the doctor reports, it does not fail
        report.add("mlflow store", "warn", f"not checked: {e}")
        return
    if problem is None:
        report.add("mlflow store", "ok", uri)
    else:
        report.add("mlflow store", "error", problem[0], hint=problem[1])


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check models, keys, local server and libraries")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--no-start", action="store_true", help="do not start the embedded model server (faster)"
    )
    p.set_defaults(func=run)

"""`forgekit track sync`: upload trajectories that are not yet in MLflow."""

from __future__ import annotations

import argparse


def run_sync(args: argparse.Namespace) -> int:
    from forgekit.tracking import sync_runs

    try:
        report = sync_runs(
            args.runs_dir, uri=args.uri, experiment=args.experiment, traces=not args.no_traces
        )
    except Exception as e:  # the store is down or the URI is wrong: say so, exit non-zero
        print(f"forgekit: tracking store unreachable: {e}")
        return 1
    print(report.summary())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("track", help="MLflow tracking: upload runs to the tracking store")
    track = p.add_subparsers(dest="track_command", metavar="ACTION")
    s = track.add_parser("sync", help="upload every run in the runs folder not yet in MLflow")
    s.add_argument("--runs-dir", help="trajectories folder (default: runs_dir of forgekit.yaml)")
    s.add_argument(
        "--uri",
        help="tracking URI (default: MLFLOW_TRACKING_URI, forgekit.yaml, "
        "or sqlite:///<project>/.forgekit/mlflow.db)",
    )
    s.add_argument("--experiment", help="MLflow experiment (default: tracking.experiment)")
    s.add_argument("--no-traces", action="store_true", help="skip MLflow traces")
    s.set_defaults(func=run_sync)

    def usage(_: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=usage)

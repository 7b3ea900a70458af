"""`forgekit ui`: the MLflow UI over the configured tracking store, on 127.0.0.1."""

from __future__ import annotations

import argparse
import signal
import sys


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    from forgekit.tracking import start_ui
    from forgekit.tracking.uri import is_remote, resolve_tracking_uri

    uri = args.uri or resolve_tracking_uri()
    if is_remote(uri):
        print(f"the tracking store is already a server: open {uri}")
        return 0
    print(f"starting mlflow server over {uri} ...", flush=True)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        ui = start_ui(uri=uri, port=args.port, timeout_s=args.timeout)
    except RuntimeError as e:
        signal.signal(signal.SIGTERM, previous)
        print(f"forgekit: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # start_ui stopped the half-started server
        signal.signal(signal.SIGTERM, previous)
        return 130
    try:
        print(f"MLflow UI: {ui.url}   (Ctrl-C to stop)", flush=True)
        ui.process.wait()
        print(f"mlflow server exited with code {ui.process.returncode}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping mlflow server", flush=True)
        return 0
    finally:
        ui.stop()
        signal.signal(signal.SIGTERM, previous)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ui", help="open the MLflow UI over the tracking store (127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: a free one)")
    p.add_argument("--uri", help="backend store URI (default: the resolved tracking URI)")
    p.add_argument(
        "--timeout", type=float, default=180.0, help="seconds to wait for the server to be healthy"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar while it starts")
    p.set_defaults(func=run)

"""`forgekit schedule`: run the scheduled jobs of a pipelines folder in the foreground."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    import logging
    import signal

    from forgekit.pipelines import Scheduler, load_jobs

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    for name in ("forgekit.schedule", "forgekit.pipelines"):
        lg = logging.getLogger(name)
        lg.setLevel(logging.INFO)
        lg.addHandler(handler)
        lg.propagate = False
    jobs = load_jobs(args.pipelines)
    sched = Scheduler(jobs, grace_s=args.grace)
    if not sched.jobs:
        print(f"forgekit: no enabled job with a schedule in {args.pipelines}", file=sys.stderr)
        return 1
    signals = {"count": 0}

    def on_signal(signum: int, frame: object) -> None:
        signals["count"] += 1
        if signals["count"] == 1:
            print(
                f"forgekit: {signal.Signals(signum).name}: stopping; running jobs get "
                f"{args.grace:g}s to finish (signal again to interrupt)",
                file=sys.stderr,
                flush=True,
            )
            sched.stop()
        else:
            sched.interrupt()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    names = ", ".join(f"{j.name} ({j.schedule.cron})" for j in sched.jobs if j.schedule)
    print(f"forgekit: scheduling {names}", file=sys.stderr, flush=True)
    sched.run()
    print("forgekit: scheduler stopped", file=sys.stderr, flush=True)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schedule", help="run scheduled pipeline jobs in the foreground")
    p.add_argument("--pipelines", default="pipelines", help="folder of job files")
    p.add_argument(
        "--grace",
        type=float,
        default=60.0,
        help="seconds running jobs get to finish after SIGTERM/Ctrl-C (default 60)",
    )
    p.set_defaults(func=run)

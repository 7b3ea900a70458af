"""`forgekit schedule`: run the scheduled jobs of a pipelines folder in the foreground."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    import logging
    import signal

    from forgekit.pipelines import JobSpec, Scheduler, load_jobs

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    for name in ("forgekit.schedule", "forgekit.pipelines"):
        lg = logging.getLogger(name)
        lg.setLevel(logging.INFO)
        lg.addHandler(handler)
        lg.propagate = False
    jobs = load_jobs(args.pipelines)
    port = args.webhook_port
    if port is None:
        from forgekit.core.config import find_config_file, load_config

        cfg_file = find_config_file(jobs[0].base_dir if jobs else None)
        port = load_config(cfg_file).pipelines.webhook_port if cfg_file else 8787
    sched = Scheduler(jobs, grace_s=args.grace, webhook_port=port)
    if not sched.jobs:
        print(
            f"forgekit: no enabled job with a schedule or trigger in {args.pipelines}",
            file=sys.stderr,
        )
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
    from forgekit.pipelines.triggers import job_triggers

    def what(j: JobSpec) -> str:
        parts = [f"cron {j.schedule.cron}"] if j.schedule else []
        return f"{j.name} ({'; '.join(parts + [t.describe() for _, t in job_triggers(j)])})"

    print(f"forgekit: scheduling {', '.join(map(what, sched.jobs))}", file=sys.stderr, flush=True)
    sched.start()  # a bad trigger (unset secret, missing folder, port taken) fails here
    if sched.webhook_url:
        print(f"forgekit: webhooks on {sched.webhook_url}", file=sys.stderr, flush=True)
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
    p.add_argument(
        "--webhook-port",
        type=int,
        default=None,
        help="loopback port of the webhook endpoint (default: pipelines.webhook_port in "
        "forgekit.yaml, else 8787; 0 = any free port)",
    )
    p.set_defaults(func=run)

"""`forgekit pipeline run <job.yaml>` and `forgekit pipeline list`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parse_param(text: str) -> tuple[str, object]:
    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return key, yaml.safe_load(value) if value else ""


def run(args: argparse.Namespace) -> int:
    import logging

    from forgekit.pipelines import load_job, run_job

    logging.getLogger("forgekit.pipelines").setLevel(logging.INFO)
    job = load_job(args.job)
    if args.output_dir:
        job.output_dir = str(Path(args.output_dir).resolve())
    result = run_job(job, parameters=dict(args.param or []))
    print(result.summary())
    if result.output_notebook:
        print(f"executed notebook: {result.output_notebook}")
    if result.mlflow_url:
        print(f"mlflow: {result.mlflow_url}")
    if not result.ok:
        print(
            f"forgekit: job {job.name} {result.status}"
            + (f" at {result.error.describe()}" if result.error else ""),
            file=sys.stderr,
        )
        return 1
    return 0


def list_jobs(args: argparse.Namespace) -> int:
    from forgekit.pipelines import load_jobs, read_runs, runs_log_path
    from forgekit.pipelines.scheduler import read_trigger_state
    from forgekit.pipelines.triggers import job_triggers

    jobs = load_jobs(args.pipelines)
    if not jobs:
        print(f"no jobs in {args.pipelines}")
        return 0
    table: list[tuple[str, str, str, str, str]] = []  # job, trigger, when, tail, why
    for job in jobs:
        runs = [r for r in read_runs(runs_log_path(job), job.name) if r.status != "skipped"]
        last = f"{runs[-1].status} {runs[-1].started_at[:19]}" if runs else "-"
        fired = read_trigger_state(job)
        rows: list[tuple[str, str]] = []
        if job.schedule:
            rows.append((f"cron {job.schedule.cron}", "schedule"))
        rows += [(t.describe(), tid) for tid, t in job_triggers(job)]
        if not rows:
            rows.append(("- (manual only)", ""))
        for i, (text, tid) in enumerate(rows):
            f = fired.get(tid) if tid else None
            when = f"{f['at'][:19]} {f.get('outcome', '')}" if f else "-"
            name = (job.name + ("" if job.enabled else " (off)")) if i == 0 else ""
            tail = f"{job.notebook}  [last run: {last}]" if i == 0 else ""
            table.append((name, text, when, tail, (f or {}).get("reason", "")))
    w_job = max(20, *(len(r[0]) for r in table))
    w_trig = min(60, max(24, *(len(r[1]) for r in table)))
    print(f"{'job':{w_job}} {'trigger':{w_trig}} {'last firing':28} notebook / last run")
    for name, text, when, tail, why in table:
        print(f"{name:{w_job}} {text[:w_trig]:{w_trig}} {when:28} {tail}".rstrip())
        if why:
            print(f"{'':{w_job}}   why: {why[:100]}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pipeline", help="run papermill notebook jobs (pipelines/*.yaml)")
    psub = p.add_subparsers(dest="pipeline_command", metavar="ACTION", required=True)
    r = psub.add_parser("run", help="execute a job now with papermill")
    r.add_argument("job", help="path to the job file (pipelines/<name>.yaml)")
    r.add_argument(
        "-p",
        "--param",
        action="append",
        type=_parse_param,
        metavar="NAME=VALUE",
        help="override a notebook parameter (VALUE is read as YAML); repeatable",
    )
    r.add_argument("--output-dir", help="where run folders and runs.jsonl go (overrides the job)")
    r.set_defaults(func=run)
    ls = psub.add_parser("list", help="list jobs, their schedules and last runs")
    ls.add_argument("--pipelines", default="pipelines", help="folder of job files")
    ls.set_defaults(func=list_jobs)

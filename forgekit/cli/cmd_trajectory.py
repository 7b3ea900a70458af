"""`forgekit runs ...`: list, show, diff, export, compact and summarise recorded runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from forgekit.trajectory import TrajectoryStore


def _store(args: argparse.Namespace) -> TrajectoryStore:
    from forgekit.trajectory import TrajectoryStore

    return TrajectoryStore(args.runs_dir)


def _print_frame(df: pl.DataFrame, fmt: str = "table") -> None:
    import polars as pl

    if fmt == "csv":
        sys.stdout.write(df.write_csv())
    elif fmt == "jsonl":
        sys.stdout.write(df.write_ndjson())
    else:
        with pl.Config(tbl_rows=200, tbl_cols=30, fmt_str_lengths=60, tbl_width_chars=200):
            print(df)


def cmd_list(args: argparse.Namespace) -> int:
    """Runs of one folder (--runs-dir), or of the whole project store: its runs_dir and
    every evaluation's runs, newest first."""
    import polars as pl

    from forgekit.trajectory import TrajectoryStore
    from forgekit.trajectory.reader import project_runs_dirs
    from forgekit.trajectory.view import RUN_SUMMARY_COLUMNS

    stores = [_store(args)] if args.runs_dir else [
        TrajectoryStore(d) for d in project_runs_dirs()] or [_store(args)]
    frames = [
        st.runs(
            solver=args.solver,
            status=args.status,
            model=args.model,
            top_level=not args.all,
            limit=args.limit,
            superseded=args.superseded,
        ).select([*RUN_SUMMARY_COLUMNS, "started_at"])
        for st in stores
    ]
    df = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    if len(frames) > 1:
        df = df.sort("started_at", descending=True, nulls_last=True).head(args.limit)
    _print_frame(df.select(RUN_SUMMARY_COLUMNS), args.format)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from forgekit.trajectory import Trajectory

    t = Trajectory.load(args.run, args.runs_dir)
    if args.html:
        Path(args.html).write_text(t._repr_html_(), encoding="utf-8")
        print(f"wrote {args.html}")
        return 0
    print(t.tree())
    tot = t.totals()
    print(f"status: {t.status}  answer: {t.answer!r}")
    print(
        "totals: "
        + ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in tot.items())
    )
    for s in t.steps():
        print(
            f"  {s.index:>3} {s.label[:60]:<60} ${s.cost_usd:.6f} {s.tokens:>6} tok {s.time_s:.2f}s"
        )
    for w in t.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from forgekit.trajectory import Trajectory, diff

    d = diff(Trajectory.load(args.left, args.runs_dir), Trajectory.load(args.right, args.runs_dir))
    print(d.text(width=args.width))
    return 0 if d.same else 1


def cmd_export(args: argparse.Namespace) -> int:
    from forgekit.trajectory import Trajectory, export_frame, export_run

    if args.sql:
        out = export_frame(_store(args).query(args.sql), args.output)
    else:
        if not args.run:
            raise SystemExit("forgekit runs export: give a RUN or --sql")
        out = export_run(Trajectory.load(args.run, args.runs_dir), args.output)
    print(f"wrote {out}")
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    report = _store(args).compact(full=args.full)
    print(report)
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    store = _store(args)
    what = args.what
    if what == "batch":
        df = store.stats(by=args.by.split(","))
    elif what == "cost":
        df = store.cost_by_model()
    elif what == "latency":
        df = store.latency_percentiles()
    elif what == "failures":
        df = store.failure_reasons()
    else:
        df = store.steps_per_run()
    _print_frame(df, args.format)
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    _print_frame(_store(args).query(args.sql), args.format)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", help="list, show, diff, query and export recorded runs")
    p.add_argument(
        "--runs-dir",
        default=None,
        help="directory of run files (default: the project's: runs_dir of forgekit.yaml, "
        "and for `list` each evaluation's runs too)",
    )
    rs = p.add_subparsers(dest="runs_command", metavar="ACTION", required=True)

    fmt = argparse.ArgumentParser(add_help=False)
    fmt.add_argument("--format", choices=["table", "csv", "jsonl"], default="table")

    q = rs.add_parser("list", parents=[fmt], help="list runs (newest first)")
    q.add_argument("--solver")
    q.add_argument("--status")
    q.add_argument("--model")
    q.add_argument("--all", action="store_true", help="include child runs")
    q.add_argument(
        "--superseded",
        action="store_true",
        help="include runs a crash interrupted and a resume ran again",
    )
    q.add_argument("--limit", type=int, default=50)
    q.set_defaults(func=cmd_list)

    q = rs.add_parser("show", help="a run's tree, totals and steps")
    q.add_argument("run", help="run id or path to its .jsonl file")
    q.add_argument("--html", help="write the HTML view to this file instead")
    q.set_defaults(func=cmd_show)

    q = rs.add_parser(
        "diff", help="first divergence and steps side by side (exit 1 if they differ)"
    )
    q.add_argument("left")
    q.add_argument("right")
    q.add_argument("--width", type=int, default=48)
    q.set_defaults(func=cmd_diff)

    q = rs.add_parser("export", help="export a run, or a query result, to .jsonl or .csv")
    q.add_argument("run", nargs="?")
    q.add_argument("-o", "--output", required=True, help="file ending in .jsonl or .csv")
    q.add_argument("--sql", help="export the result of this query instead of a run")
    q.set_defaults(func=cmd_export)

    q = rs.add_parser("compact", help="compact run files into Parquet tables")
    q.add_argument("--full", action="store_true", help="rewrite everything into one part")
    q.set_defaults(func=cmd_compact)

    q = rs.add_parser("stats", parents=[fmt], help="batch statistics and summaries")
    q.add_argument(
        "what",
        nargs="?",
        default="batch",
        choices=["batch", "cost", "latency", "failures", "steps"],
    )
    q.add_argument("--by", default="model", help="batch: model, solver or both (model,solver)")
    q.set_defaults(func=cmd_stats)

    q = rs.add_parser(
        "query", parents=[fmt], help="SQL over runs, events, model_calls, tool_calls, steps, scores"
    )
    q.add_argument("sql")
    q.set_defaults(func=cmd_query)

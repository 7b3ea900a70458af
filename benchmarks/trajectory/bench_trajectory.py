"""Trajectory benchmark: write N events across R runs (flushed per event), compact them to
Parquet, and query cost by model and latency percentiles.

    .venv/bin/python benchmarks/trajectory/bench_trajectory.py                 # 1M events
    .venv/bin/python benchmarks/trajectory/bench_trajectory.py --runs 1000     # 100k events

Baselines measured in the same process:
- write: a bare loop of `json.dumps(dict)` + `f.write` + `f.flush()` per event into one file
  per run (what any JSON-lines logger costs), on the same event dicts;
- query: the same SQL run by DuckDB directly on the Parquet files (no store, no views).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from forgekit.core import Message, ModelCall, NoteEvent, StepEvent, ToolCallEvent, Usage
from forgekit.trajectory import Recorder, TrajectoryStore

ALIASES = ["local", "gpt-small", "claude-mini", "qwen"]
COST_SQL = """select alias, count(*) as calls, sum(input_tokens)::bigint as input_tokens,
       sum(output_tokens)::bigint as output_tokens, sum(cost_usd) as cost_usd
from model_calls group by alias order by alias"""
LATENCY_SQL = """select alias, quantile_cont(latency_s, 0.5) as p50, quantile_cont(latency_s, 0.9)
       as p90, quantile_cont(latency_s, 0.99) as p99 from model_calls group by alias order by alias"""


def run_events(rng: random.Random, n: int) -> list:
    """The body events of one agent-like run (n events, ~40% model calls)."""
    alias = rng.choice(ALIASES)
    convo = [Message.system("You are a careful agent."), Message.user(f"task {rng.random():.6f}")]
    out = []
    step = 0
    while len(out) < n:
        k = len(out) % 5
        if k in (0, 3):
            inp, outp = rng.randint(50, 2000), rng.randint(5, 300)
            out.append(
                ModelCall(
                    alias=alias,
                    model=f"provider/{alias}",
                    messages=list(convo),
                    text=f"thought {step}",
                    usage=Usage(input_tokens=inp, output_tokens=outp),
                    cost_usd=(inp * 0.15 + outp * 0.6) / 1e6,
                    latency_s=rng.lognormvariate(-1.0, 0.6),
                    params={"temperature": 0.0},
                )
            )
            convo.append(Message.assistant(f"thought {step}"))
        elif k == 1:
            out.append(
                ToolCallEvent(
                    call_id=f"c{step}",
                    name="search",
                    arguments={"q": step},
                    result=f"result {step}",
                    decision="allow",
                    duration_s=rng.random() / 10,
                )
            )
            convo.append(Message.user(f"result {step}"))
        elif k == 2:
            out.append(StepEvent(step=step, thought="t", action="search", observation="ok"))
            step += 1
        else:
            out.append(NoteEvent(kind="progress", data={"step": step}))
    return out


def bench_write(root: Path, runs: int, per_run: int, seed: int) -> tuple[float, int]:
    rng = random.Random(seed)
    n = 0
    t_emit = 0.0
    for r in range(runs):
        body = run_events(rng, per_run - 2)  # built outside the timer: the caller's cost
        t0 = time.perf_counter()
        rec = Recorder.start(
            root, solver=f"solver{r % 3}", models=[body[0].alias], sample_id=f"s{r}"
        )
        for ev in body:
            rec.emit(ev)
        rec.finish(
            status="completed" if r % 10 else "failed",
            error=None if r % 10 else "ValueError: bad answer",
            answer="42",
        )
        t_emit += time.perf_counter() - t0
        n += per_run
    return t_emit, n


def bench_baseline(root: Path, runs: int, per_run: int, seed: int) -> tuple[float, int]:
    rng = random.Random(seed)
    n = 0
    total = 0.0
    for r in range(runs):
        body = [e.model_dump(mode="json") for e in run_events(rng, per_run)]
        t0 = time.perf_counter()
        with open(root / f"{r}.jsonl", "w", encoding="utf-8") as f:
            for d in body:
                f.write(json.dumps(d) + "\n")
                f.flush()
        total += time.perf_counter() - t0
        n += per_run
    return total, n


def best_of(fn, repeat: int = 5) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--events-per-run", type=int, default=100)
    ap.add_argument(
        "--baseline-runs",
        type=int,
        default=None,
        help="runs in the baseline write loop (default: runs / 10)",
    )
    ap.add_argument("--dir", default=None, help="work directory (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the files")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    work = Path(args.dir or tempfile.mkdtemp(prefix="fk-traj-bench-"))
    runs_dir, base_dir = work / "runs", work / "baseline"
    runs_dir.mkdir(parents=True, exist_ok=True)
    base_dir.mkdir(parents=True, exist_ok=True)
    try:
        brun = args.baseline_runs or max(1, args.runs // 10)
        tb, nb = bench_baseline(base_dir, brun, args.events_per_run, args.seed)
        tw, nw = bench_write(runs_dir, args.runs, args.events_per_run, args.seed)
        size = sum(p.stat().st_size for p in runs_dir.glob("*.jsonl"))
        store = TrajectoryStore(runs_dir)
        t0 = time.perf_counter()
        report = store.compact()
        t_compact = time.perf_counter() - t0
        print(
            f"wrote {nw} events in {tw:.1f}s, baseline {nb} in {tb:.1f}s; "
            f"compacted in {t_compact:.1f}s",
            flush=True,
        )

        t_cost, cost = best_of(lambda: store.query(COST_SQL))
        t_lat, lat = best_of(lambda: store.query(LATENCY_SQL))
        t_cost_nf, _ = best_of(lambda: store.query(COST_SQL, fresh=False))
        t_lat_nf, _ = best_of(lambda: store.query(LATENCY_SQL, fresh=False))
        t_stats, _ = best_of(lambda: store.stats(by=["model", "solver"]), repeat=3)

        import duckdb

        part = runs_dir / "_compacted" / report.part / "model_calls-*.parquet"
        con = duckdb.connect()

        def raw(sql: str):
            return con.sql(sql.replace("from model_calls", f"from read_parquet('{part}')")).pl()

        t_cost_raw, _ = best_of(lambda: raw(COST_SQL))
        t_lat_raw, _ = best_of(lambda: raw(LATENCY_SQL))
        n_calls = int(cost["calls"].sum())
        res = {
            "events": nw,
            "runs": args.runs,
            "model_calls": n_calls,
            "jsonl_mb": round(size / 1e6, 1),
            "write_events_per_s": round(nw / tw),
            "baseline_events_per_s": round(nb / tb),
            "write_vs_baseline": round((nw / tw) / (nb / tb), 3),
            "compact_s": round(t_compact, 2),
            "compact_events_per_s": round(report.events / t_compact),
            "query_cost_by_model_s": round(t_cost, 4),
            "query_latency_pct_s": round(t_lat, 4),
            "query_batch_stats_s": round(t_stats, 4),
            "query_cost_by_model_no_file_check_s": round(t_cost_nf, 4),
            "query_latency_pct_no_file_check_s": round(t_lat_nf, 4),
            "duckdb_direct_cost_s": round(t_cost_raw, 4),
            "duckdb_direct_latency_s": round(t_lat_raw, 4),
            "store_overhead_cost": round(t_cost / t_cost_raw, 2),
            "store_overhead_latency": round(t_lat / t_lat_raw, 2),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        }
        print(cost)
        print(lat)
        print(json.dumps(res, indent=1))
        assert report.events == nw, (report.events, nw)
        assert n_calls == round(
            args.runs
            * statistics.mean([sum(1 for i in range(args.events_per_run - 2) if i % 5 in (0, 3))])
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Plain vs every quality strategy on the embedded local model, measured by the eval
runner: accuracy with 95% bootstrap CIs, the paired difference against plain with its
p-value, model calls/tokens/USD/latency per sample, and the Pareto front.

Usage (from the repository root):
    .venv/bin/python benchmarks/quality/compare.py [--suite evals/quality_strategies.yaml]
        [--limit N] [--out benchmarks/quality/results] [--fresh | --no-cache]
        [--eval-dir DIR]

The runner writes its results and one trajectory per sample under
`.forgekit/evals/<eval id>/` (resumable: an interrupted run continues where it stopped)
and the gateway caches responses in `.forgekit/cache`, so a second run is free; pass
`--fresh` (no response cache, a new eval dir) to measure every call again. This script
only adds the run's metadata (date, machine, load average, wall time, cache hits) to what
`forgekit quality compare` writes: <out>/<suite>.md, .json and .png. Re-rendering a
finished evaluation (`--eval-dir DIR`, no model call made) keeps the timing of the run
that measured it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# what describes the run that made the model calls (kept when only re-rendering)
TIMING = ("date", "load_average_start", "load_average_end", "wall_s", "response_cache", "command")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default=str(ROOT / "evals/quality_strategies.yaml"))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--eval-dir", default=None, help="the runner's output dir")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/quality/results"))
    ap.add_argument("--no-cache", action="store_true", help="bypass the response cache")
    ap.add_argument(
        "--fresh",
        action="store_true",
        help="measure every call again: --no-cache and a new eval dir under .forgekit/evals",
    )
    args = ap.parse_args(argv)
    if args.fresh:
        args.no_cache = True
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        args.eval_dir = args.eval_dir or str(ROOT / f".forgekit/evals/quality-fresh-{stamp}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from forgekit.cli.cmd_quality import load_or_run, write_outputs
    from forgekit.core.config import load_config
    from forgekit.evals import markdown_table, strategy_table
    from forgekit.models import Gateway

    gw = Gateway(load_config(env={"FORGEKIT_HOME": str(ROOT)}))
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    t0 = time.perf_counter()
    try:
        results = load_or_run(
            args.suite,
            gateway=gw,
            limit=args.limit,
            eval_dir=args.eval_dir,
            cache=not args.no_cache,
        )
        stats = gw.cache.stats() if gw.cache.enabled else {}
        made_calls = gw.calls > 0
    finally:
        gw.close()
    seconds = time.perf_counter() - t0
    rows = strategy_table(results)
    suite = results.meta.get("suite", {})
    meta = {
        "suite": os.path.relpath(args.suite, ROOT),
        "taskset": suite.get("taskset"),
        "models": suite.get("models"),
        "date": started,
        "machine": f"{os.cpu_count()}-core CPU",
        "load_average_start": [round(x, 2) for x in load_before],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "wall_s": round(seconds, 1),
        "response_cache": "off" if args.no_cache else {k: stats.get(k) for k in ("hits", "misses")},
        "command": "python benchmarks/quality/compare.py " + " ".join(argv or sys.argv[1:]),
    }
    stem = Path(args.suite).stem
    previous = Path(args.out) / f"{stem}.json"
    if not made_calls and previous.exists():
        # re-rendering a finished evaluation: keep the timing of the run that measured it
        old = json.loads(previous.read_text(encoding="utf-8")).get("meta", {})
        if old.get("eval_dir") and Path(old["eval_dir"]).resolve() == results.out_dir.resolve():
            meta.update({k: old[k] for k in TIMING if k in old})
            meta["rendered"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    write_outputs(
        results,
        rows,
        args.out,
        stem=stem,
        meta=meta,
        title=f"{stem}: accuracy vs calls per sample (SmolLM2-135M, 95% CI)",
    )
    print(markdown_table(rows))
    print({k: meta[k] for k in (*TIMING, "rendered") if k in meta})
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Plain vs quality strategies on the bundled task sets, on the embedded local model:
accuracy against calls/tokens/cost, with the Pareto front.

Usage:
    .venv/bin/python benchmarks/quality/compare.py [--taskset arithmetic|multiple_choice]
        [--limit N] [--out benchmarks/quality/results]

Writes <out>/<taskset>.json (rows with per-sample answers), <taskset>.md (the table)
and <taskset>.png (the accuracy-vs-calls plot, Pareto front in red).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROMPTS = {
    "arithmetic": "{input}\nAnswer with just the number.",
    "multiple_choice": "{input}\n{choices}\nAnswer with the letter of the correct choice.",
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--taskset", default="arithmetic", choices=sorted(PROMPTS))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--only", default=None, help="comma-separated solver names")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/quality/results"))
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import tempfile

    from forgekit.core.config import load_config
    from forgekit.evals import load_samples
    from forgekit.models import Gateway
    from forgekit.quality import markdown_table, measure, plot_frontier
    from forgekit.quality.measure import standard_lineup

    samples = load_samples(ROOT / f"datasets/{args.taskset}/{args.taskset}.jsonl", limit=args.limit)
    todo = standard_lineup(PROMPTS[args.taskset], only=args.only.split(",") if args.only else None)
    home = tempfile.mkdtemp(prefix="forgekit-quality-bench-")
    cfg = load_config(env={"FORGEKIT_HOME": home})
    cfg.cache.enabled = False  # measure real calls
    gw = Gateway(cfg)
    t0 = time.perf_counter()
    try:
        rows = measure(
            todo,
            samples,
            gw,
            model="local",
            on_result=lambda r: print(r, file=sys.stderr, flush=True),
        )
    finally:
        gw.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "taskset": args.taskset,
        "samples": len(samples),
        "model": "local (SmolLM2-135M)",
        "machine": f"{os.cpu_count()}-core CPU",
        "seconds": round(time.perf_counter() - t0),
    }
    (out / f"{args.taskset}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    table = markdown_table(rows, cost="calls")
    (out / f"{args.taskset}.md").write_text(table + "\n")
    plot_frontier(
        rows,
        cost="calls",
        path=str(out / f"{args.taskset}.png"),
        title=f"{args.taskset}: accuracy vs calls per sample (SmolLM2-135M)",
    )
    print(table)
    print(meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())

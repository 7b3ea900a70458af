"""Why the sampling strategies lose on a small model: how often the sampled candidates
inside best-of-N, pairwise and reviewer runs (and the guardrail's attempts) are right,
read from the runner's trajectories of an evaluation. Numbers are compared as numbers,
multiple-choice answers by their letter; an answer with neither counts as wrong.

Usage:
    .venv/bin/python benchmarks/quality/candidates.py .forgekit/evals/<eval dir>
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    import polars as pl

    from forgekit.evals import load_samples
    from forgekit.quality.normalize import canonical_number, extract_choice, extract_number
    from forgekit.trajectory import Trajectory

    eval_dir = Path((argv or sys.argv[1:])[0])
    meta = json.loads((eval_dir / "suite.json").read_text(encoding="utf-8"))
    taskset = meta["suite"]["taskset"]
    base = Path(meta["source"]).parent if meta.get("source") else None
    samples = {s.id: s for s in load_samples(taskset["path"], base=base)}
    df = pl.read_parquet(eval_dir / "results.parquet")
    for solver in df["solver"].unique(maintain_order=True).to_list():
        right = total = scored = distinct = 0
        for r in df.filter(pl.col("solver") == solver).iter_rows(named=True):
            if not r["trajectory"]:
                continue
            kids = [
                c
                for c in Trajectory.load(r["trajectory"]).children
                if c.solver.endswith(("/candidate", "/attempt"))
            ]
            if not kids:
                continue
            sample = samples[r["sample_id"]]
            target = json.loads(r["target"])
            if sample.choices:
                keys = [extract_choice(c.answer or "", sample.choices) for c in kids]
                want = str(target).strip().upper()
            else:
                keys = [extract_number(c.answer or "") for c in kids]
                want = canonical_number(str(target))
            right += sum(k is not None and k == want for k in keys)
            total += len(keys)
            scored += 1
            distinct += len(set(keys))
        if total:
            print(
                f"{solver:22s} candidates right {right}/{total} = {right / total:.2f}; "
                f"distinct answers per sample {distinct / scored:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

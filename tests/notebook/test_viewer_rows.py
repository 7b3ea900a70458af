"""The viewer's rows, read column by column, equal those of the row-by-row code they
replaced (benchmarks/evals_stats/baseline.py, the benchmark's baseline)."""

from __future__ import annotations

import json

import polars as pl

from benchmarks.evals_stats.baseline import build_rows as ref_build_rows
from forgekit.evals.results import EvalResults, result_schema
from forgekit.notebook.sample_rows import build_rows

# a list, JSON strings with and without escapes, text that is not JSON, none
TARGETS = ['["x", "1"]', json.dumps('say "hi"\n'), '"4"', 'plain "text"', None]


def _results(with_input: bool) -> EvalResults:
    rows = []
    for m, solver in (("m1", "plain"), ("m2", "cot"), ("m1", "cot")):
        for i in range(5):
            for epoch in (0, 1):
                if solver == "cot" and m == "m2" and i == 3:
                    continue  # a missing cell
                ok = (i + epoch + len(solver)) % 2 == 0
                scores = [{"scorer": "exact", "value": 1.0 if ok else 0.0}]
                if i % 2:
                    scores.append({"scorer": "judge", "value": 0.5, "explanation": "half"})
                if i == 4:
                    scores.append({"scorer": "regex", "value": None, "error": "bad pattern"})
                rows.append({
                    "eval_id": "e", "model": m, "solver": solver, "sample_id": f"s{4 - i}",
                    "sample_index": 4 - i, "epoch": epoch,
                    "status": "completed" if i != 2 else "failed",
                    "input": f"q{i}", "answer": f"a{i}", "error": "boom" if i == 2 else None,
                    "target": TARGETS[i],
                    "score": (1.0 if ok else 0.0) if i != 2 else None, "passed": ok,
                    "scores": json.dumps(scores), "score_errors": 0, "input_tokens": 1,
                    "output_tokens": 1, "cost_usd": 0.01 if ok else None, "latency_s": 0.1,
                    "trajectory": f"/t/{m}/{solver}/{i}.jsonl" if ok else None,
                })
    df = pl.DataFrame(rows, schema=result_schema(), strict=False)
    if not with_input:
        df = df.drop("input")
    return EvalResults(df, meta={"eval_id": "e", "suite": {"pass_threshold": 0.5}})


def test_rows_equal_the_row_by_row_reference() -> None:
    for with_input in (True, False):
        results = _results(with_input)
        assert build_rows(results) == ref_build_rows(results)

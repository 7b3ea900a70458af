"""The viewer's rows, read column by column, equal those of the row-by-row code they
replaced (kept here as the reference)."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from forgekit.evals.results import EvalResults, result_schema
from forgekit.notebook.sample_rows import _num, _scores, _target, build_rows


def ref_build_rows(results: Any) -> tuple[list[dict[str, Any]], list[str], dict[str, list[str]]]:
    cells = results.cells()
    threshold = float(results.meta.get("suite", {}).get("pass_threshold", 1.0))
    index = {c: i for i, c in enumerate(cells)}
    has_input = "input" in results.df.columns
    rows: dict[str, dict[str, Any]] = {}
    paths: dict[str, list[str]] = {}
    scorers: list[str] = []
    for r in results.df.iter_rows(named=True):
        key = f"{r['sample_id']}#{r['epoch']}"
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                "key": key, "i": r["sample_index"], "id": r["sample_id"], "epoch": r["epoch"],
                "input": (r["input"] if has_input else None) or "",
                "target": _target(r["target"]), "cells": [None] * len(cells),
            }
            paths[key] = [""] * len(cells)
        scores = {}
        expl = []
        for s in _scores(r["scores"]):
            name = str(s.get("scorer", ""))
            if name not in scorers:
                scorers.append(name)
            scores[name] = _num(s.get("value"))
            note = s.get("error") or s.get("explanation")
            if note:
                expl.append(f"{name}: {note}")
        i = index[(r["model"], r["solver"])]
        row["cells"][i] = {
            "answer": r["answer"], "score": _num(r["score"]), "scores": scores,
            "status": r["status"], "error": r["error"], "note": " | ".join(expl),
            "cost": r["cost_usd"] or 0.0,
        }
        paths[key][i] = r["trajectory"] or ""
    out = sorted(rows.values(), key=lambda x: (x["i"], x["epoch"]))
    for row in out:
        row["cells"] = [c or {"status": "missing", "score": None, "scores": {}} for c in row["cells"]]
        row["threshold"] = threshold
    return out, scorers, paths


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

"""The code the vectorised statistics and viewer rows replaced (forgekit 74c9940), kept
callable for the benchmark's baseline only: a bootstrap drawing the whole (n_boot, n)
index matrix at once, a sign-flip test drawing (n_perm, k) signs with rng.choice, an
uncached compare(), cells() and pass@k by python loops, viewer rows from polars'
iter_rows with every scores text parsed, the default query run twice."""

from __future__ import annotations

import math
from typing import Any

from forgekit.evals.results import EvalResults
from forgekit.evals.stats import mean_se, pass_at_k
from forgekit.notebook.sample_rows import Query, _num, _scores, _target, cell_score


def bootstrap_ci(values: Any, *, confidence: float = 0.95, n_boot: int = 2000,
                 seed: int = 0) -> tuple[float, float]:
    import numpy as np

    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    means = x[idx].mean(axis=1)
    alpha = (1 - confidence) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def paired_test(a: Any, b: Any, *, confidence: float = 0.95, n_boot: int = 2000,
                n_perm: int = 10000, seed: int = 0) -> dict[str, float]:
    import numpy as np

    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = y - x
    n = d.size
    if n == 0:
        return {"diff": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                "p_value": math.nan, "n": 0}
    lo, hi = bootstrap_ci(d, confidence=confidence, n_boot=n_boot, seed=seed)
    observed = abs(d.mean())
    nz = d[d != 0]
    if nz.size == 0:
        p = 1.0
    elif nz.size <= 16:
        signs = ((np.arange(2**nz.size)[:, None] >> np.arange(nz.size)) & 1) * 2 - 1
        stats = np.abs((signs * nz).sum(axis=1) / n)
        p = float((stats >= observed - 1e-12).mean())
    else:
        rng = np.random.default_rng(seed)
        signs = rng.choice([-1.0, 1.0], size=(n_perm, nz.size))
        stats = np.abs((signs * nz).sum(axis=1) / n)
        p = float(((stats >= observed - 1e-12).sum() + 1) / (n_perm + 1))
    return {"diff": float(d.mean()), "ci_low": lo, "ci_high": hi, "p_value": p, "n": int(n)}


class OldEvalResults(EvalResults):
    """EvalResults with the old cells(), summary, compare() (uncached) and comparisons."""

    def cells(self) -> list[tuple[str, str]]:
        seen: list[tuple[str, str]] = []
        for m, s in self.df.select("model", "solver").iter_rows():
            if (m, s) not in seen:
                seen.append((m, s))
        return seen

    def summary(self, *, confidence: float = 0.95, seed: int = 0) -> Any:
        key = ("old-summary", confidence, seed)
        hit = self._summaries.get(key)
        if hit is None or hit[0] is not self.df:
            hit = self._summaries[key] = (self.df, self._old_summary(confidence, seed))
        return hit[1].clone()

    def _old_summary(self, confidence: float, seed: int) -> Any:
        import polars as pl

        threshold = self.meta.get("suite", {}).get("pass_threshold", 1.0)
        rows = []
        k = self.epochs
        for model, solver in self.cells():
            sub = self.df.filter((pl.col("model") == model) & (pl.col("solver") == solver))
            per = list(self.per_sample(model, solver).values())
            acc, se = mean_se(per)
            lo, hi = bootstrap_ci(per, confidence=confidence, seed=seed)
            row: dict[str, Any] = {
                "model": model, "solver": solver, "samples": sub["sample_id"].n_unique(),
                "runs": sub.height, "errors": sub.filter(pl.col("status") != "completed").height,
                "score_errors": int(sub["score_errors"].sum() or 0), "accuracy": acc, "se": se,
                "ci_low": lo, "ci_high": hi,
            }
            if k > 1:
                for kk in sorted({1, k}):
                    vals = []
                    for _sid, g in sub.group_by("sample_id", maintain_order=True):
                        c = int(g["score"].fill_null(0.0).ge(threshold).sum())
                        vals.append(pass_at_k(g.height, c, kk))
                    row[f"pass@{kk}"] = sum(vals) / len(vals) if vals else math.nan
            row.update({
                "cost_usd": float(sub["cost_usd"].sum()),
                "tokens": int((sub["input_tokens"] + sub["output_tokens"]).sum()),
                "latency_s": float(sub["latency_s"].mean() or 0.0),
            })
            rows.append(row)
        return pl.DataFrame(rows)

    def compare(self, baseline: tuple[str, str] | None = None, *, confidence: float = 0.95,
                seed: int = 0) -> Any:
        import polars as pl

        cells = self.cells()
        base = baseline or cells[0]
        a = self.per_sample(*base)
        rows = []
        for cell in cells:
            if cell == base:
                continue
            b = self.per_sample(*cell)
            common = [s for s in a if s in b]
            t = paired_test([a[s] for s in common], [b[s] for s in common],
                            confidence=confidence, seed=seed)
            rows.append({
                "model": cell[0], "solver": cell[1], "baseline": "/".join(base), "n": t["n"],
                "diff": t["diff"], "ci_low": t["ci_low"], "ci_high": t["ci_high"],
                "p_value": t["p_value"], "significant": bool(t["p_value"] < 1 - confidence),
            })
        return pl.DataFrame(rows)

    def comparisons(self, baseline: tuple[str, str] | None = None, *,
                    confidence: float = 0.95, seed: int = 0) -> list[dict[str, Any]]:
        if len(self.cells()) < 2:
            return []
        base = baseline or self.cells()[0]
        key = ("old-comparisons", *base, confidence, seed)
        hit = self._summaries.get(key)
        if hit is None or hit[0] is not self.df:
            hit = self._summaries[key] = (self.df, self._comparisons(base, confidence, seed))
        return [dict(r) for r in hit[1]]


def build_rows(results: Any) -> tuple[list[dict[str, Any]], list[str], dict[str, list[str]]]:
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


def flags(row: dict[str, Any], scorer: str) -> tuple[bool, int]:
    cells = row["cells"]
    values = {
        (c.get("status"), None if (v := cell_score(c, scorer)) is None else round(v, 6))
        for c in cells
    }
    failing = 0
    for c in cells:
        v = cell_score(c, scorer)
        if c.get("status") != "completed" or v is None or v < row["threshold"]:
            failing += 1
    return len(cells) > 1 and len(values) > 1, failing


def old_html(viewer: Any) -> str:
    """EvalViewer.html() as it was: the default query run again."""
    from forgekit.notebook import sample_rows
    from forgekit.notebook.viewer import STATIC_ROWS
    from forgekit.notebook.viewer_html import static_html

    rows, counts = sample_rows.run_query(viewer.rows, Query())
    return static_html(viewer._header, rows[:STATIC_ROWS], counts)

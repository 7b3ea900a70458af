"""Evaluation results: a polars table per sample, summaries with confidence intervals,
paired comparisons, DuckDB queries across evaluations."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forgekit.core.display import LiveDisplay
from forgekit.evals.sample_result import (  # noqa: F401 - result_schema: its old home
    SampleResult,
    result_schema,
)

if TYPE_CHECKING:
    from forgekit.models.budget import Budget

# columns that differ between two runs of the same suite (timing, ids, file paths)
VOLATILE = ("latency_s", "run_id", "trajectory", "finished_at")
STOP_FILE = "stop.json"


def write_stop(
    out_dir: Path, stopped: str | None, not_run: int, budget: Budget | None = None
) -> None:
    """Record why the last run of an eval stopped early (or that it did not)."""
    info: dict[str, Any] = {"stopped": stopped, "not_run": not_run if stopped else 0}
    if budget is not None:
        info.update(
            budget_usd=budget.max_usd,
            budget_tokens=budget.max_tokens,
            spent_usd=budget.spent_usd,
            spent_tokens=budget.spent_tokens,
        )
    path = Path(out_dir) / STOP_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(info, indent=2), encoding="utf-8")
    tmp.replace(path)


class EvalResults(LiveDisplay):
    """The results of one evaluation. In a notebook it renders as the eval viewer
    (`forgekit.notebook.EvalViewer`): every sample side by side, the paired statistics on
    top, one click to the transcripts.

    Attributes:
        df: one row per model x solver x sample x epoch (polars DataFrame; the columns
            are the fields of `SampleResult`, `scores` as JSON text; `rows()` gives
            them typed).
        out_dir: where results.parquet, results.jsonl, suite.json and runs/ live.
    """

    def __init__(
        self, df: Any, out_dir: Path | None = None, meta: dict[str, Any] | None = None
    ) -> None:
        self.df = df
        self.out_dir = Path(out_dir) if out_dir else None
        self.meta = meta or {}
        self.tracking: dict[str, Any] = {}  # filled by whoever logs it (MLflow run ids)
        # how the last run ended: {"stopped": "budget: ..." | None, "not_run": N, ...}
        self.run_state: dict[str, Any] = {}
        # cached statistics: (confidence, seed) -> summary; ("comparisons", ...) -> rows
        self._summaries: dict[tuple[Any, ...], tuple[Any, Any]] = {}

    @classmethod
    def load(cls, out_dir: str | Path) -> EvalResults:
        import polars as pl

        out = Path(out_dir)
        meta_path = out / "suite.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        res = cls(pl.read_parquet(out / "results.parquet"), out, meta)
        stop = out / STOP_FILE
        if stop.exists():
            res.run_state = json.loads(stop.read_text(encoding="utf-8"))
        return res

    def rows(self) -> list[SampleResult]:
        """The table as typed results, one per model x solver x sample x epoch (each
        row's `scores` parsed into `Score`s)."""
        return [SampleResult.model_validate(r) for r in self.df.iter_rows(named=True)]

    @property
    def stopped(self) -> str | None:
        """Why the last run stopped before running every sample (e.g. "budget: ..."),
        or None when it ran them all."""
        return self.run_state.get("stopped")

    @property
    def not_run(self) -> int:
        """Samples (x models x solvers x epochs) the last run did not start."""
        return int(self.run_state.get("not_run") or 0)

    @property
    def eval_id(self) -> str:
        return self.meta.get("eval_id", "")

    @property
    def epochs(self) -> int:
        return int(self.df["epoch"].max() or 0) + 1 if self.df.height else 0

    def cells(self) -> list[tuple[str, str]]:
        """(model, solver) pairs in the order they first appear."""
        return list(self._cached(("cells",), self._cells))

    def _cells(self) -> list[tuple[str, str]]:
        pairs = self.df.select("model", "solver").unique(maintain_order=True)
        return [(m, s) for m, s in pairs.iter_rows()]

    def _cached(self, key: tuple[Any, ...], compute: Any) -> Any:
        """`compute()` once per key while `df` is the same table (recomputed if `df` was
        replaced): the viewer, the repr, the report and the tracker all ask."""
        hit = self._summaries.get(key)
        if hit is None or hit[0] is not self.df:
            hit = self._summaries[key] = (self.df, compute())
        return hit[1]

    def per_sample(self, model: str, solver: str) -> dict[str, float]:
        """Mean primary score per sample (over epochs); failed samples count as 0,
        samples whose score is a scoring error are left out."""
        import polars as pl

        sub = self.df.filter(
            (pl.col("model") == model)
            & (pl.col("solver") == solver)
            & pl.col("score").is_not_null()
        )
        agg = sub.group_by("sample_id", maintain_order=True).agg(pl.col("score").mean())
        return dict(zip(agg["sample_id"].to_list(), agg["score"].to_list(), strict=True))

    def summary(self, *, confidence: float = 0.95, seed: int = 0) -> Any:
        """One row per model x solver: accuracy with bootstrap CI, mean ± standard error,
        pass@k, errors, cost, tokens, latency. Computed once per (confidence, seed): the
        table, the report and the tracker all ask for it."""
        return self._cached((confidence, seed), lambda: self._summary(confidence, seed)).clone()

    def _summary(self, confidence: float, seed: int) -> Any:
        import polars as pl

        from forgekit.evals.stats import bootstrap_ci, mean_se, pass_at_k

        threshold = self.meta.get("suite", {}).get("pass_threshold", 1.0)
        rows = []
        k = self.epochs
        for model, solver in self.cells():
            sub = self.df.filter((pl.col("model") == model) & (pl.col("solver") == solver))
            per = list(self.per_sample(model, solver).values())
            acc, se = mean_se(per)
            lo, hi = bootstrap_ci(per, confidence=confidence, seed=seed)
            row = {
                "model": model,
                "solver": solver,
                "samples": sub["sample_id"].n_unique(),
                "runs": sub.height,
                "errors": sub.filter(pl.col("status") != "completed").height,
                "score_errors": int(sub["score_errors"].sum() or 0),
                "accuracy": acc,
                "se": se,
                "ci_low": lo,
                "ci_high": hi,
            }
            if k > 1:
                per_id = sub.group_by("sample_id", maintain_order=True).agg(
                    pl.len().alias("n"),
                    pl.col("score").fill_null(0.0).ge(threshold).sum().alias("c"),
                )
                ns, cs = per_id["n"].to_list(), per_id["c"].to_list()
                for kk in sorted({1, k}):
                    vals = [pass_at_k(n, int(c), kk) for n, c in zip(ns, cs, strict=True)]
                    row[f"pass@{kk}"] = sum(vals) / len(vals) if vals else math.nan
            row.update(
                {
                    "cost_usd": float(sub["cost_usd"].sum()),
                    "tokens": int((sub["input_tokens"] + sub["output_tokens"]).sum()),
                    "latency_s": float(sub["latency_s"].mean() or 0.0),
                }
            )
            rows.append(row)
        return pl.DataFrame(rows)

    def compare(
        self, baseline: tuple[str, str] | None = None, *, confidence: float = 0.95, seed: int = 0
    ) -> Any:
        """Paired comparison of every cell against `baseline` (default: the first cell) on
        the samples both scored: mean difference, paired-bootstrap CI, sign-flip
        permutation p-value. Computed once per (baseline, confidence, seed)."""
        cells = self.cells()
        base = baseline or cells[0]
        key = ("compare", *base, confidence, seed)
        return self._cached(key, lambda: self._compare(base, confidence, seed)).clone()

    def _compare(self, base: tuple[str, str], confidence: float, seed: int) -> Any:
        import polars as pl

        from forgekit.evals.stats import paired_test

        cells = self.cells()
        a = self.per_sample(*base)
        rows = []
        for cell in cells:
            if cell == base:
                continue
            b = self.per_sample(*cell)
            common = [s for s in a if s in b]
            t = paired_test(
                [a[s] for s in common], [b[s] for s in common], confidence=confidence, seed=seed
            )
            rows.append(
                {
                    "model": cell[0],
                    "solver": cell[1],
                    "baseline": "/".join(base),
                    "n": t["n"],
                    "diff": t["diff"],
                    "ci_low": t["ci_low"],
                    "ci_high": t["ci_high"],
                    "p_value": t["p_value"],
                    "significant": bool(t["p_value"] < 1 - confidence),
                }
            )
        return pl.DataFrame(rows)

    def comparisons(
        self, baseline: tuple[str, str] | None = None, *, confidence: float = 0.95, seed: int = 0
    ) -> list[dict[str, Any]]:
        """`compare()` as plain rows, each with the samples won and lost against the
        baseline and a one-line plain-language `reading` (which also explains a
        bootstrap CI and a sign-flip p-value that disagree)."""
        if len(self.cells()) < 2:
            return []
        base = baseline or self.cells()[0]
        # the viewer, the report and the tracker all ask: the permutation tests run once
        key = ("comparisons", *base, confidence, seed)
        rows = self._cached(key, lambda: self._comparisons(base, confidence, seed))
        return [dict(r) for r in rows]

    def _comparisons(
        self, base: tuple[str, str], confidence: float, seed: int
    ) -> list[dict[str, Any]]:
        from forgekit.evals.reading import reading

        a = self.per_sample(*base)
        out = []
        for r in self.compare(base, confidence=confidence, seed=seed).iter_rows(named=True):
            b = self.per_sample(r["model"], r["solver"])
            common = [s for s in a if s in b]
            won = sum(1 for s in common if b[s] > a[s])
            lost = sum(1 for s in common if b[s] < a[s])
            name = f"{r['model']}/{r['solver']}"
            out.append(
                {
                    **r,
                    "name": name,
                    "won": won,
                    "lost": lost,
                    "reading": reading(
                        diff=r["diff"],
                        ci_low=r["ci_low"],
                        ci_high=r["ci_high"],
                        p_value=r["p_value"],
                        n=r["n"],
                        differing=won + lost,
                        name=name,
                        baseline=r["baseline"],
                        confidence=confidence,
                    ),
                }
            )
        return out

    def cell_payloads(self) -> list[dict[str, Any]]:
        """Plain data per model x solver cell (params, metrics, rows, trajectory paths),
        what a tracker (MLflow) logs as one child run each."""
        import polars as pl

        out = []
        summary = {(r["model"], r["solver"]): r for r in self.summary().iter_rows(named=True)}
        for model, solver in self.cells():
            sub = self.df.filter((pl.col("model") == model) & (pl.col("solver") == solver))
            metrics = {
                k: v
                for k, v in summary[(model, solver)].items()
                if k not in ("model", "solver") and isinstance(v, (int, float))
            }
            out.append(
                {
                    "params": {"model": model, "solver": solver},
                    "metrics": metrics,
                    "table": sub,
                    "trajectories": [
                        p for p in sub["trajectory"].to_list() if p and Path(p).exists()
                    ],
                }
            )
        return out

    def comparison_table(self) -> str:
        """A plain-text table for terminals: summary plus the paired comparison."""
        lines = [
            f"{'model':<14}{'solver':<18}{'n':>4}{'err':>5}{'accuracy':>10}"
            f"{'95% CI':>17}{'cost $':>10}{'tokens':>9}{'lat s':>7}"
        ]
        for r in self.summary().iter_rows(named=True):
            ci = f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
            lines.append(
                f"{r['model']:<14}{r['solver']:<18}{r['samples']:>4}{r['errors']:>5}"
                f"{r['accuracy']:>10.3f}{ci:>17}{r['cost_usd']:>10.4f}"
                f"{r['tokens']:>9}{r['latency_s']:>7.2f}"
            )
        if self.stopped:
            lines.append(
                f"STOPPED ({self.stopped}): {self.not_run} sample run(s) not started; "
                "raise the budget and run again to continue"
            )
        if len(self.cells()) > 1:
            lines.append("")
            for r in self.comparisons():  # computed once per results (the repr, the viewer)
                lines.append(
                    f"{r['model']}/{r['solver']} vs {r['baseline']}: "
                    f"diff {r['diff']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}], "
                    f"p={r['p_value']:.3f} (paired sign-flip, n={r['n']})"
                    + (" significant" if r["significant"] else "")
                )
        return "\n".join(lines)

    def experience(self) -> Any:
        """How the experience pools among the solvers did: hit rate, and the accuracy of
        hits against misses, per model x solver (empty when no solver used a pool)."""
        from forgekit.evals.experience import experience_summary

        return experience_summary(self)

    def plot(self, path: str | Path | None = None) -> Path:
        """Accuracy (with 95% CI) against cost per sample, one point per model x solver,
        the Pareto front in red (`forgekit.evals.frontier_plot`); a PNG."""
        from forgekit.evals.frontier_plot import frontier_image

        path = Path(path) if path else (self.out_dir or Path.cwd()) / "accuracy_vs_cost.png"
        path.write_bytes(frontier_image(self))
        return path

    def report(self, path: str | Path | None = None) -> Path:
        """Write the self-contained HTML report and return its path."""
        from forgekit.evals.report import write_report

        path = Path(path) if path else (self.out_dir or Path.cwd()) / "report.html"
        return write_report(self, path)

    def stable_table(self) -> Any:
        """The table without timing/id columns: equal for an interrupted+resumed run and
        an uninterrupted one."""
        return self.df.drop([c for c in VOLATILE if c in self.df.columns])

    def _repr_html_(self) -> str:
        from forgekit.evals.report import summary_html

        return summary_html(self)

    def __repr__(self) -> str:
        return f"EvalResults({self.eval_id!r}, rows={self.df.height})\n{self.comparison_table()}"


def query_evals(sql: str, root: str | Path = ".forgekit/evals") -> Any:
    """Run SQL over every evaluation's results under `root` (view `results`) with DuckDB;
    returns a polars DataFrame.

    Example:
        >>> query_evals("select solver, avg(score) from results group by solver")  # doctest: +SKIP
    """
    import duckdb

    files = sorted(Path(root).glob("**/results.parquet"))
    if not files:
        raise FileNotFoundError(f"no results.parquet under {root}")
    con = duckdb.connect()
    try:
        quoted = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        con.execute(
            f"create view results as select * from read_parquet([{quoted}], union_by_name=true)"
        )
        return con.sql(sql).pl()
    finally:
        con.close()

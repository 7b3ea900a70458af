"""Eval statistics benchmark: what displaying a large `EvalResults` costs in the kernel,
the vectorised statistics and column-wise viewer rows (what ships) against the code they
replaced (`baseline.py`), in the same process, one after the other.

    .venv/bin/python benchmarks/evals_stats/bench_stats.py                  # 10,000 x 3
    .venv/bin/python benchmarks/evals_stats/bench_stats.py --samples 2000 --solvers 2

Measured per implementation, each on a fresh results object (nothing cached), the median
of `--repeat` runs: `summary()` (accuracy, bootstrap CI per cell), `comparisons()` (paired
difference, bootstrap CI and sign-flip p-value per cell against the first), the viewer
(`EvalViewer(results)`, its state and its static HTML, with summary and comparisons
cached), and the first display: `results._repr_mimebundle_()` on a fresh object, what
JupyterLab asks for (text repr, viewer widget, static fallback). Wall seconds, and the process's CPU seconds
(what a loaded machine does not inflate, short of cache sharing). Also written: the
largest difference between the two implementations' CIs and p-values (the same for
inputs of up to ~2,000 samples; above, resampled as counts: Monte Carlo error only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np  # imported up front: in a kernel it is loaded already

sys.path.insert(0, str(Path(__file__).parent))

import baseline  # noqa: E402

SOLVERS = ("plain", "cot", "best_of_3", "self_consistency")


def synthetic(n: int, solvers: int, cls: Any) -> Any:
    """`solvers` solvers on n samples, 0/1 scores (accuracy ~0.62 to ~0.75, correlated
    across solvers, as on a real task set), one scorer, answers of a few words."""
    import polars as pl

    from forgekit.evals.results import result_schema

    rng = np.random.default_rng(1)
    hard = rng.random(n)
    rows = []
    for k, solver in enumerate(SOLVERS[:solvers]):
        noise = rng.random(n)
        ok = (0.6 * hard + 0.4 * noise) < 0.62 + 0.06 * k
        for i in range(n):
            good = bool(ok[i])
            rows.append({
                "eval_id": "bench", "model": "m", "solver": solver, "sample_id": f"q{i}",
                "sample_index": i, "epoch": 0, "status": "completed",
                "input": f"question {i}: how many apples are left?",
                "answer": f"answer {i} " * (1 + i % 4), "target": json.dumps(str(i)),
                "score": 1.0 if good else 0.0, "passed": good,
                "scores": json.dumps([{"scorer": "exact", "value": 1.0 if good else 0.0}]),
                "score_errors": 0, "input_tokens": 5, "output_tokens": 5, "cost_usd": 0.0,
                "latency_s": 0.1, "trajectory": None,
            })
    frame = pl.DataFrame(rows, schema=result_schema(), strict=False)
    return lambda: cls(frame, meta={"eval_id": "bench"})


@contextmanager
def old_viewer():
    """The viewer's module functions as they were (rows, flags, static html)."""
    from forgekit.notebook import sample_rows, viewer

    with mock.patch.object(viewer, "build_rows", baseline.build_rows), \
            mock.patch.object(sample_rows, "flags", baseline.flags), \
            mock.patch.object(viewer.EvalViewer, "html", baseline.old_html):
        yield


CPU: dict[str, list[float]] = {}  # process CPU seconds per measure (what load cannot inflate)


def timed(fn: Any, name: str = "") -> float:
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    wall = time.perf_counter() - t0
    CPU.setdefault(name, []).append(time.process_time() - c0)
    return wall


def measure(make: Any, repeat: int) -> tuple[dict[str, float], dict[str, float], Any]:
    from forgekit.notebook.viewer import EvalViewer

    CPU.clear()
    runs: dict[str, list[float]] = {"summary": [], "comparisons": [], "viewer": [],
                                    "first_display": []}
    for _ in range(repeat):
        r = make()
        runs["summary"].append(timed(r.summary, "summary"))
        runs["comparisons"].append(timed(r.comparisons, "comparisons"))

        def view(r: Any = r) -> None:
            v = EvalViewer(r)
            v.state()
            v.html()

        runs["viewer"].append(timed(view, "viewer"))
        fresh = make()
        runs["first_display"].append(timed(fresh._repr_mimebundle_, "first_display"))

    def median(values: dict[str, list[float]]) -> dict[str, float]:
        return {k: round(statistics.median(v), 3) for k, v in values.items()}

    return median(runs), median(CPU), r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--solvers", type=int, default=3, choices=(2, 3, 4))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).parent / "results" / "evals_stats.json")
    args = ap.parse_args()
    from forgekit.evals.results import EvalResults

    load_before = os.getloadavg()
    with old_viewer():
        base, base_cpu, old_r = measure(synthetic(args.samples, args.solvers, baseline.OldEvalResults),
                              args.repeat)
    new, new_cpu, new_r = measure(synthetic(args.samples, args.solvers, EvalResults), args.repeat)
    load_after = os.getloadavg()

    def deltas(a: Any, b: Any, cols: tuple[str, ...]) -> float:
        return max(abs(x[c] - y[c]) for x, y in zip(a, b, strict=True) for c in cols)

    report = {
        "samples": args.samples,
        "solvers": args.solvers,
        "repeat": args.repeat,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                   f"{platform.python_version()}, numpy {np.__version__}",
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "baseline_s": base,
        "vectorised_s": new,
        "ratio": {k: round(base[k] / max(new[k], 1e-9), 1) for k in base},
        "baseline_cpu_s": base_cpu,
        "vectorised_cpu_s": new_cpu,
        "max_abs_diff": {
            "summary_ci": deltas(old_r.summary().to_dicts(), new_r.summary().to_dicts(),
                                 ("ci_low", "ci_high")),
            "comparison_ci": deltas(old_r.comparisons(), new_r.comparisons(),
                                    ("ci_low", "ci_high")),
            "p_value": deltas(old_r.comparisons(), new_r.comparisons(), ("p_value",)),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

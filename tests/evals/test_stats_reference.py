"""The vectorised statistics give the numbers of the straightforward code they replaced
(benchmarks/evals_stats/baseline.py, the benchmark's baseline) for the same seeds, block by block; large inputs resampled
as counts agree with it within Monte Carlo error."""

from __future__ import annotations

import math

import numpy as np
import pytest

# the code the vectorised statistics replaced, as the stats benchmark's baseline runs it
from benchmarks.evals_stats.baseline import bootstrap_ci as ref_bootstrap_ci
from benchmarks.evals_stats.baseline import paired_test as ref_paired_test
from forgekit.evals import stats
from forgekit.evals.stats import bootstrap_ci, paired_test, sign_flip_bits


@pytest.mark.parametrize("rows", [1, 7, 1 << 20])  # blocks of 1 row, 7 rows, all at once
def test_same_numbers_as_the_reference_for_the_same_seed(monkeypatch, rows) -> None:
    rng = np.random.default_rng(42)
    for n in (1, 6, 31, 101):
        a = rng.integers(0, 2, n).astype(float)
        b = np.round(rng.random(n), 2)  # scores in [0, 1], not only 0/1
        monkeypatch.setattr(stats, "_BLOCK", rows * n)
        for seed in (0, 3):
            assert bootstrap_ci(b, seed=seed, n_boot=301) == ref_bootstrap_ci(
                b, seed=seed, n_boot=301
            )
            got = paired_test(a, b, seed=seed, n_boot=301, n_perm=999)
            assert got == ref_paired_test(a, b, seed=seed, n_boot=301, n_perm=999)
    # the exact enumeration (few non-zero differences) is unchanged
    t = paired_test([0, 0, 0, 1, 1], [1, 1, 1, 0, 1])
    assert t == ref_paired_test([0, 0, 0, 1, 1], [1, 1, 1, 0, 1])


def test_sign_flip_bits_are_numpys_integer_draws() -> None:
    for rows, width in ((1, 1), (3, 5), (4, 7), (10, 33)):
        want = np.random.default_rng(5).integers(0, 2, size=(rows, width))
        got = sign_flip_bits(np.random.default_rng(5), rows, width)
        assert (got == want).all()


def test_large_inputs_resampled_as_counts_agree_with_the_reference() -> None:
    rng = np.random.default_rng(7)
    n = 3000  # n x n_boot above stats.LARGE: the counts path
    assert n * 2000 > stats.LARGE
    a = (rng.random(n) < 0.6).astype(float)
    b = (rng.random(n) < 0.64).astype(float)
    got, ref = paired_test(a, b), ref_paired_test(a, b)
    assert got["diff"] == ref["diff"] and got["n"] == n
    assert got["ci_low"] == pytest.approx(ref["ci_low"], abs=0.006)
    assert got["ci_high"] == pytest.approx(ref["ci_high"], abs=0.006)
    # p is a proportion over 10,000 flips: a few standard errors apart at most
    se = math.sqrt(ref["p_value"] * (1 - ref["p_value"]) / 10000)
    assert abs(got["p_value"] - ref["p_value"]) < 5 * se + 1e-3
    assert paired_test(a, b) == got  # seeded: the same numbers again
    lo, hi = bootstrap_ci(a)
    rlo, rhi = ref_bootstrap_ci(a)
    assert lo == pytest.approx(rlo, abs=0.006) and hi == pytest.approx(rhi, abs=0.006)


def test_statistics_run_once_per_results(monkeypatch) -> None:
    import json

    import polars as pl

    from forgekit.evals.results import EvalResults, result_schema

    rows = [
        {"eval_id": "e", "model": "m", "solver": solver, "sample_id": f"s{i}",
         "sample_index": i, "epoch": 0, "status": "completed", "target": json.dumps("x"),
         "score": float((i + k) % 2), "scores": "[]", "score_errors": 0, "input_tokens": 1,
         "output_tokens": 1, "cost_usd": 0.0, "latency_s": 0.1}
        for k, solver in enumerate(("a", "b", "c")) for i in range(20)
    ]
    res = EvalResults(pl.DataFrame(rows, schema=result_schema(), strict=False))
    calls = []
    real = stats.paired_test
    monkeypatch.setattr(stats, "paired_test", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert res.cells() == [("m", "a"), ("m", "b"), ("m", "c")]
    repr(res)
    res._repr_html_()
    first = res.compare()
    assert res.compare().equals(first) and len(res.comparisons()) == 2
    assert len(calls) == 2  # one paired test per compared cell, whoever asks
    res.df = res.df.clone()  # a replaced table is computed again
    res.compare()
    assert len(calls) == 4
    assert bootstrap_ci([]) == (pytest.approx(math.nan, nan_ok=True),) * 2
    assert np.isnan(stats.bootstrap_means([], n_boot=3)).all()

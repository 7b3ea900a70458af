"""Statistics for comparisons: bootstrap confidence intervals, paired tests, pass@k,
mean with standard error. Pure numpy (imported inside the functions)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean and its standard error (sample std / sqrt(n)); se is 0 for n < 2."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    m = sum(values) / n
    if n < 2:
        return m, 0.0
    var = sum((v - m) ** 2 for v in values) / (n - 1)
    return m, math.sqrt(var / n)


def bootstrap_ci(
    values: Sequence[float], *, confidence: float = 0.95, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean."""
    import numpy as np

    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    means = x[idx].mean(axis=1)
    alpha = (1 - confidence) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def paired_test(
    a: Sequence[float],
    b: Sequence[float],
    *,
    confidence: float = 0.95,
    n_boot: int = 2000,
    n_perm: int = 10000,
    seed: int = 0,
) -> dict[str, float]:
    """Paired comparison of b against a on the same samples.

    Returns the mean difference (b - a), its paired-bootstrap CI, and the two-sided
    p-value of a sign-flip permutation test (exact when there are at most 16 non-zero
    differences, else Monte Carlo with `n_perm` draws).
    """
    import numpy as np

    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in length: {x.size} vs {y.size}")
    d = y - x
    n = d.size
    if n == 0:
        return {
            "diff": math.nan,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "p_value": math.nan,
            "n": 0,
        }
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


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k) for n samples with c
    correct."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} epochs, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)

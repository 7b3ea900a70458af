"""Statistics for comparisons: bootstrap confidence intervals, paired tests, pass@k,
mean with standard error. Pure numpy (imported inside the functions), vectorised: the
bootstrap and the Monte Carlo sign flips draw their random numbers as matrices, a block
of rows at a time, from the same seeded streams as drawing them whole
(benchmarks/evals_stats)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


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


# elements drawn per block: the resampling indices and the sign flips are drawn as
# matrices a block of rows at a time, so 10,000 samples never hold 2000 x 10,000 int64s
_BLOCK = 1 << 20


# above this many draws (resamples x samples, or permutations x non-zero differences),
# data with few distinct values is resampled as counts: the same distribution, drawn
# from a shorter random stream (so other numbers than drawing every index for one seed)
LARGE = 1 << 22
FEW_VALUES = 64


def _distinct(x: Any) -> tuple[Any, Any] | None:
    """(values, counts) of `x` when it holds at most FEW_VALUES distinct values."""
    import numpy as np

    values, counts = np.unique(x, return_counts=True)
    return (values, counts) if values.size <= FEW_VALUES else None


def _block_rows(width: int, rows: int) -> int:
    return max(1, min(rows, _BLOCK // max(1, width)))


def bootstrap_means(values: Any, *, n_boot: int = 2000, seed: int = 0) -> Any:
    """The means of `n_boot` bootstrap resamples of `values` (a numpy array).

    The resampling indices are one stream of `rng.integers(0, n)` drawn a block of rows
    at a time (32-bit, which numpy draws from the same 32-bit stream as int64 for n <
    2**32): the same numbers as drawing the whole (n_boot, n) matrix at once. A large
    input (n x n_boot > LARGE) with few distinct values (0/1 scores, their differences,
    means over a few epochs) is resampled as counts instead: how often each value is drawn
    in a resample of n is multinomial, so its mean has the same distribution from
    n_boot x values draws in place of n_boot x n."""
    import numpy as np

    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return np.full(n_boot, math.nan)
    rng = np.random.default_rng(seed)
    few = _distinct(x) if x.size * n_boot > LARGE else None
    if few is not None:
        vals, counts = few
        drawn = rng.multinomial(x.size, counts / counts.sum(), size=n_boot)
        return (drawn @ vals) / x.size
    dtype = np.uint32 if x.size < 2**32 else np.int64
    means = np.empty(n_boot, dtype=float)
    step = _block_rows(x.size, n_boot)
    for start in range(0, n_boot, step):
        rows = min(step, n_boot - start)
        idx = rng.integers(0, x.size, size=(rows, x.size), dtype=dtype)
        means[start : start + rows] = x[idx].mean(axis=1)
    return means


def bootstrap_ci(
    values: Sequence[float], *, confidence: float = 0.95, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean."""
    import numpy as np

    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return math.nan, math.nan
    means = bootstrap_means(x, n_boot=n_boot, seed=seed)
    alpha = (1 - confidence) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def sign_flip_bits(rng: Any, rows: int, width: int) -> Any:
    """A (rows, width) 0/1 matrix equal to `rng.integers(0, 2, size=(rows, width))`
    (and so to `rng.choice([-1.0, 1.0], ...)` as 0 -> -1, 1 -> +1), drawn ~5x faster.

    numpy draws an integer below 2 from the generator's 32-bit stream as the top bit of
    each 32-bit word (Lemire's method, never rejecting for a range of 2), the low word of
    each 64-bit output first; this reads those bits from `random_raw`. Valid for a
    generator that has not handed out half of a 64-bit word (a fresh one, or after draws
    of 64-bit outputs only); tests/evals/test_stats.py checks it against `integers`."""
    import numpy as np

    count = rows * width
    raw = rng.bit_generator.random_raw((count + 1) // 2)
    bits = np.empty(2 * raw.size, dtype=np.uint8)
    bits[0::2] = (raw >> np.uint64(31)) & np.uint64(1)
    bits[1::2] = raw >> np.uint64(63)
    return bits[:count].reshape(rows, width)


def sign_flip_p_value(
    d: Any, *, n_perm: int = 10000, seed: int = 0, exact_up_to: int = 16
) -> float:
    """Two-sided p-value of a sign-flip permutation test of the mean of the paired
    differences `d` (a numpy array): exact enumeration when at most `exact_up_to`
    differences are non-zero, else Monte Carlo with `n_perm` draws (the flips a matrix,
    drawn and summed a block of rows at a time). Many non-zero differences (n_perm x
    them > LARGE) with few distinct magnitudes are flipped as counts: for the k_v
    differences of magnitude v, the flipped sum is v (2 B - k_v) with B ~ Binomial(k_v,
    1/2), the same distribution from n_perm x magnitudes draws."""
    import numpy as np

    n = d.size
    observed = abs(d.mean())
    nz = d[d != 0]
    if nz.size == 0:
        return 1.0
    if nz.size <= exact_up_to:
        signs = ((np.arange(2**nz.size)[:, None] >> np.arange(nz.size)) & 1) * 2 - 1
        stats = np.abs((signs * nz).sum(axis=1) / n)
        return float((stats >= observed - 1e-12).mean())
    rng = np.random.default_rng(seed)
    few = _distinct(np.abs(nz)) if nz.size * n_perm > LARGE else None
    if few is not None:
        mags, counts = few
        heads = rng.binomial(counts, 0.5, size=(n_perm, counts.size))
        sums = (2.0 * heads - counts) @ mags
        hits = int((np.abs(sums / n) >= observed - 1e-12).sum())
        return float((hits + 1) / (n_perm + 1))
    total = nz.sum()
    hits = 0
    step = _block_rows(nz.size, n_perm)
    if step % 2 and step < n_perm:
        step += 1  # whole 64-bit words per block, so the blocks continue one stream
    for start in range(0, n_perm, step):
        rows = min(step, n_perm - start)
        bits = sign_flip_bits(rng, rows, nz.size)
        # sum of s * nz with s = 2b - 1
        sums = 2.0 * (bits.astype(float) @ nz) - total
        hits += int((np.abs(sums / n) >= observed - 1e-12).sum())
    return float((hits + 1) / (n_perm + 1))


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
    p = sign_flip_p_value(d, n_perm=n_perm, seed=seed)
    return {"diff": float(d.mean()), "ci_low": lo, "ci_high": hi, "p_value": p, "n": int(n)}


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k) for n samples with c
    correct."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} epochs, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)

"""Statistics on known data."""

from __future__ import annotations

import math

import pytest

from forgekit.evals import bootstrap_ci, mean_se, paired_test, pass_at_k


def test_mean_se() -> None:
    m, se = mean_se([0, 1, 0, 1])
    assert m == 0.5 and se == pytest.approx(math.sqrt((4 * 0.25 / 3) / 4))
    assert mean_se([1.0]) == (1.0, 0.0)


def test_bootstrap_ci_covers_the_mean_and_shrinks_with_n() -> None:
    small = [1, 0] * 10
    big = [1, 0] * 500
    lo, hi = bootstrap_ci(small, seed=1)
    assert lo < 0.5 < hi and 0.25 < lo and hi < 0.75
    blo, bhi = bootstrap_ci(big, seed=1)
    assert (bhi - blo) < (hi - lo) / 4
    assert bootstrap_ci([1, 1, 1]) == (1.0, 1.0)
    assert bootstrap_ci(small, seed=3) == bootstrap_ci(small, seed=3)  # deterministic


def test_paired_test_detects_a_real_difference() -> None:
    a = [0] * 30
    b = [1] * 20 + [0] * 10
    t = paired_test(a, b)
    assert t["diff"] == pytest.approx(20 / 30)
    assert t["ci_low"] > 0 and t["p_value"] < 0.001


def test_paired_test_exact_small_case() -> None:
    # 3 of 4 pairs improve by 1, one gets worse: sign-flip p = 10/16
    t = paired_test([0, 0, 0, 1], [1, 1, 1, 0])
    assert t["p_value"] == pytest.approx(10 / 16)
    assert paired_test([1, 0], [1, 0])["p_value"] == 1.0
    with pytest.raises(ValueError):
        paired_test([1], [1, 0])


def test_pass_at_k() -> None:
    assert pass_at_k(5, 0, 1) == 0.0
    assert pass_at_k(5, 5, 3) == 1.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(4, 1, 2) == pytest.approx(1 - math.comb(3, 2) / math.comb(4, 2))
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)

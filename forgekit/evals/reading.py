"""Plain-language readings of a paired comparison: one line a reader can act on, and why
the bootstrap interval and the sign-flip test may disagree.

    >>> reading(diff=0.5, ci_low=0.17, ci_high=0.83, p_value=0.25, n=6, differing=2,
    ...         name="b", baseline="a")[:39]
    'b scores +0.500 vs a, but this is not y'
"""

from __future__ import annotations

import math


def _num(x: float, spec: str) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def min_p_value(differing: int) -> float:
    """The smallest two-sided p-value a sign-flip test can reach when `differing`
    samples have a non-zero difference (all flips equally likely: 2 of 2**k are as
    extreme as the one observed)."""
    return 1.0 if differing <= 0 else min(1.0, 2.0 / 2**differing)


def reading(
    *,
    diff: float,
    ci_low: float,
    ci_high: float,
    p_value: float,
    n: int,
    differing: int,
    name: str,
    baseline: str,
    confidence: float = 0.95,
) -> str:
    """One line saying what a paired difference means, naming the disagreement between
    the paired-bootstrap CI and the sign-flip p-value when there is one.

    Args:
        diff, ci_low, ci_high, p_value, n: what `EvalResults.compare()` reports.
        differing: samples on which the two scored differently (the only ones the
            sign-flip test can use).
        name, baseline: the two cells, as shown to the reader.
        confidence: the CI's level; the test's threshold is `1 - confidence`.
    """
    alpha = 1 - confidence
    if n == 0 or diff is None or math.isnan(diff):
        return f"{name} and {baseline} share no scored samples: nothing to compare."
    if differing == 0:
        return f"{name} and {baseline} scored the same on all {n} samples: no difference."
    pct = f"{confidence:.0%}"
    head = f"{name} scores {diff:+.3f} vs {baseline}"
    ci_excludes_0 = ci_low > 0 or ci_high < 0
    significant = p_value < alpha
    better = "better" if diff > 0 else "worse"
    if significant and ci_excludes_0:
        return (
            f"{head}: {name} is {better}, and chance is an unlikely explanation "
            f"(p={_num(p_value, '.3f')}, {pct} CI [{ci_low:+.3f}, {ci_high:+.3f}], n={n})."
        )
    if not significant and not ci_excludes_0:
        more = " — more samples would tell" if n < 100 else ""
        return (
            f"{head}, but this is not yet distinguishable from chance (p={_num(p_value, '.3f')}, "
            f"{pct} CI [{ci_low:+.3f}, {ci_high:+.3f}] includes 0, n={n}){more}."
        )
    floor = min_p_value(differing)
    if ci_excludes_0:  # the interval says "different", the test does not
        why = (
            f"only {differing} of {n} samples differ, so the sign-flip test cannot go below "
            f"p={floor:.3g}"
            if floor >= alpha
            else f"the bootstrap resamples only the {n} differences seen and runs narrow "
            f"on small samples"
        )
        return (
            f"{head}, but this is not yet distinguishable from chance (p={_num(p_value, '.3f')}, "
            f"n={n}). The {pct} bootstrap CI [{ci_low:+.3f}, {ci_high:+.3f}] excludes 0 because "
            f"{why}; trust the exact test here and evaluate more samples."
        )
    return (  # p below alpha, interval touching 0: a borderline result
        f"{head}: borderline — the sign-flip test gives p={_num(p_value, '.3f')} but the "
        f"{pct} bootstrap CI [{ci_low:+.3f}, {ci_high:+.3f}] includes 0 (n={n}); treat it as "
        f"suggestive and evaluate more samples."
    )

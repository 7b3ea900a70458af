"""The plain-language reading of a paired comparison, in each of its four cases."""

from __future__ import annotations

from forgekit.evals.reading import min_p_value, reading


def _read(**kw) -> str:
    base = {"diff": 0.5, "ci_low": 0.17, "ci_high": 0.83, "p_value": 0.25, "n": 6,
            "differing": 3, "name": "b", "baseline": "a"}
    return reading(**{**base, **kw})


def test_ci_and_test_disagree_on_few_samples_says_why() -> None:
    text = _read()
    assert text.startswith("b scores +0.500 vs a, but this is not yet distinguishable")
    assert "only 3 of 6 samples differ" in text and "p=0.25" in text
    assert "trust the exact test" in text and "excludes 0" in text


def test_agreeing_readings() -> None:
    assert "b is better" in _read(p_value=0.001, n=200, differing=60)
    assert "b is worse" in _read(diff=-0.3, ci_low=-0.4, ci_high=-0.2, p_value=0.001,
                                 differing=60)
    text = _read(ci_low=-0.1, ci_high=0.4, p_value=0.4)
    assert "includes 0" in text and "more samples would tell" in text
    assert "borderline" in _read(ci_low=-0.01, ci_high=0.6, p_value=0.03, differing=20)


def test_no_difference_and_nothing_to_compare() -> None:
    assert "scored the same on all 6" in _read(diff=0.0, differing=0)
    assert "no scored samples" in _read(n=0, diff=float("nan"))
    assert min_p_value(4) == 0.125 and min_p_value(0) == 1.0

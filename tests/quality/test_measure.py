"""The measurement driver: accuracy and per-sample cost of plain vs strategies."""

from __future__ import annotations

from forgekit.core.samples import Answer, Sample
from forgekit.quality import BestOfN, Direct, exact_match, markdown_table, measure


def test_exact_match_numbers_choices_text():
    num = Sample(id="n", input="?", target="1000")
    assert exact_match(Answer(text="It is 1,000."), num)
    assert not exact_match(Answer(text="100"), num)
    mc = Sample(id="c", input="?", choices=["x", "y"], target="B")
    assert exact_match(Answer(text="(B)"), mc) and not exact_match(Answer(text="A"), mc)
    txt = Sample(id="t", input="?", target="Paris")
    assert exact_match(Answer(text="the capital is paris"), txt)


def test_measure_counts_accuracy_and_calls(harness):
    samples = [Sample(id=f"s{i}", input=f"q{i}", target="5") for i in range(3)]

    def fn(request):  # plain is wrong; sampled candidates are right 2 times in 3
        seed = request.params.get("seed")
        return "4" if seed is None or seed == 2 else "5"

    h = harness(fn)
    solvers = {"plain": Direct(), "best_of_3": BestOfN(Direct(), n=3, temperature=0.7)}
    rows = measure(solvers, samples, h.gateway, model="m")
    by = {r["strategy"]: r for r in rows}
    assert by["plain"]["accuracy"] == 0 and by["plain"]["calls"] == 1
    assert by["best_of_3"]["accuracy"] == 1 and by["best_of_3"]["calls"] == 3
    assert by["best_of_3"]["cost"] > by["plain"]["cost"] > 0
    table = markdown_table(rows)
    assert "| best_of_3 | 1.00 | 3/3 | 3.0 |" in table
    assert table.count("★") == 2  # both on the front: cheaper-worse vs dearer-better

"""Notebook views: candidates, votes/scores and the choice render as static HTML."""

from __future__ import annotations

from forgekit.core.samples import Sample
from forgekit.quality import BestOfN, Direct, Pairwise, StrategyResult


def test_run_renders_candidates_votes_and_choice(harness):
    h = harness(lambda r: {0: "4", 1: "5 <b>", 2: "5"}[r.params["seed"]])
    result = BestOfN(Direct(), n=3).run(Sample(id="q", input="2+3?"), h.gateway, model="m")
    assert isinstance(result, StrategyResult)
    html = result._repr_html_()
    assert "best_of_n(prompt)" in html and "votes" in html
    assert "5 &lt;b&gt;" in html  # escaped
    assert html.count("<tr") == 1 + 3 + 1 + 2  # candidates table + votes table
    assert "background:#e6f4ea" in html  # the chosen row
    assert result.chosen == 1 and result.calls == 3
    assert "chose #1" in result.summary()
    assert result.to_frame().height == 3
    assert "n" in BestOfN(Direct(), n=3)._repr_html_()


def test_pairwise_view_lists_matches(harness):
    h = harness(lambda r: "A" if "Which" in r.messages[-1].content else f"x{r.params['seed']}")
    result = Pairwise(Direct(), n=2).run("q?", h.gateway, model="m")
    html = result._repr_html_()
    assert "matches" in html and "wins" in html

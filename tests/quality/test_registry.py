"""Strategies by name, from config, round trips, nesting and bad options."""

from __future__ import annotations

import asyncio

import pytest

from forgekit.core.errors import ConfigError
from forgekit.quality import (
    STRATEGIES,
    AskColleagues,
    BestOfN,
    Debate,
    Direct,
    Guardrail,
    Pairwise,
    ReviewerRetry,
    build,
    from_config,
)


def test_every_strategy_is_registered():
    assert {"best_of_n", "ask_colleagues", "pairwise", "reviewer", "guardrail", "debate"} <= set(
        STRATEGIES
    )


def test_config_round_trip_with_nesting():
    solver = BestOfN(ReviewerRetry(Direct("{input}!", max_tokens=8), k=2), n=3, temperature=0.5)
    cfg = solver.config()
    assert cfg["type"] == "best_of_n" and cfg["inner"]["type"] == "reviewer"
    rebuilt = from_config(cfg)
    assert rebuilt.config() == cfg
    assert rebuilt.inner.inner.params == {"max_tokens": 8}
    assert solver.name == "best_of_n(reviewer(prompt))"


def test_bad_options_are_config_errors_naming_the_key():
    with pytest.raises(ConfigError) as e:
        from_config({"strategy": "best_of_n", "n": 0}, inner=Direct())
    assert e.value.key == "n"
    with pytest.raises(ConfigError) as e:
        from_config({"strategy": "pairwise", "judge": "x"}, inner=Direct())
    assert e.value.key == "judge"
    with pytest.raises(ConfigError, match="unknown strategy"):
        from_config({"strategy": "vote"}, inner=Direct())
    with pytest.raises(ConfigError, match="inner"):
        from_config({"strategy": "debate"})
    with pytest.raises(ConfigError, match="validator"):
        build("guardrail", inner=Direct())
    with pytest.raises(ConfigError, match="cannot import"):
        build("reviewer", inner=Direct(), check="nope.nothing:fn")


def test_nested_strategies_keep_attempts_apart_and_count_all_calls(harness, sample):
    h = harness(lambda r: "Score: 2" if "Rate" in r.messages[-1].content else "5")
    solver = BestOfN(ReviewerRetry(Direct(), k=2, threshold=None), n=2, temperature=0.7)
    answer = asyncio.run(solver.solve(sample, h.ctx(sample)))
    keys = [(r.call_key["attempt"], r.messages[-1].content[:4]) for r in h.requests]
    assert len(set(keys)) == len(keys) == 8
    # the outer sampling temperature reaches the inner attempts but not the inner judge
    for r in h.requests:
        is_judge = "Rate" in r.messages[-1].content
        assert (
            ("temperature" in r.params and r.params["temperature"] == 0.0)
            if is_judge
            else r.params["temperature"] == 0.7
        )
    assert answer.metadata["calls"] == 8
    assert answer.metadata["inner"]["strategy"] == "reviewer"
    outer_children = h.sink.children
    assert [len(c.children) for c in outer_children] == [2, 2]


def _digits(answer, sample):
    return answer.text.isdigit()


@pytest.mark.parametrize(
    "solver",
    [
        lambda: BestOfN(Direct(), n=2, normalize="number"),
        lambda: AskColleagues(Direct(), models=["m", "judge"]),
        lambda: Pairwise(Direct(), n=3),
        lambda: ReviewerRetry(Direct(), k=2, mode="chooser"),
        lambda: Guardrail(Direct(), validator=_digits),
        lambda: Debate(Direct(), rounds=1),
    ],
)
def test_every_strategy_round_trips(solver):
    s = solver()
    cfg = s.config()
    assert from_config(cfg).config() == cfg

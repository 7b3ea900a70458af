"""Termination conditions: composition, reset, serialisation."""

from __future__ import annotations

import pytest

from forgekit.agents import (
    AgentState,
    FunctionCallResult,
    MaxCost,
    MaxSteps,
    MaxTokens,
    Predicate,
    StallDetected,
    TextMention,
    Timeout,
    condition_from_config,
)
from forgekit.core.errors import ConfigError


def test_or_and_and_reset():
    cond = MaxSteps(3) | TextMention("DONE")
    s = AgentState(steps=1, last_text="working")
    assert cond.check(s) is None
    s.last_text = "ok DONE"
    assert "text_mention" in cond.check(s)
    cond.reset()
    assert cond.check(AgentState(steps=1)) is None
    both = MaxTokens(100) & MaxSteps(2)
    assert both.check(AgentState(steps=2, input_tokens=10)) is None
    # each side remembers that it fired until reset
    assert both.check(AgentState(steps=1, input_tokens=200)) is not None
    both.reset()
    assert both.check(AgentState(steps=1, input_tokens=200)) is None


def test_each_condition():
    assert MaxCost(0.01).check(AgentState(cost_usd=0.02)).startswith("max_cost")
    assert Timeout(0).check(AgentState()).startswith("timeout")
    s = AgentState(last_results=[("add", "5", None)])
    assert FunctionCallResult("add").check(s)
    assert FunctionCallResult("add", text="6").check(s) is None
    assert FunctionCallResult("mul").check(s) is None
    assert StallDetected(3).check(AgentState(actions=["a(1)"] * 3)).startswith("stall")
    assert StallDetected(3).check(AgentState(actions=["a(1)", "a(2)", "a(1)"])) is None
    s = AgentState(observations=["x", "y", "x", "y"])
    assert StallDetected(repeats=9, no_progress=2).check(s).startswith("stall: no new")
    p = Predicate(lambda st: st.steps > 4, name="long")
    assert p.check(AgentState(steps=5)) == "predicate: long"


def test_round_trip_config():
    cond = (MaxSteps(5) | TextMention("DONE")) | (MaxTokens(10) & StallDetected(2, 3))
    cfg = cond.to_config()
    assert cfg["conditions"][-1]["type"] == "and"  # the & group is kept inside the |
    again = condition_from_config(cfg)
    assert again.to_config() == cfg
    assert again.check(AgentState(steps=1, input_tokens=20)) is None  # only one side of &
    # a predicate names its function by import reference and rebuilds from it
    cfg = Predicate(bool, name="p").to_config()
    assert cfg == {"type": "predicate", "version": 1, "fn": "builtins:bool", "name": "p"}
    assert condition_from_config(cfg).fn is bool
    # a config saved by name only (older forgekit) still rebuilds with predicates=
    assert condition_from_config(
        {"type": "predicate", "name": "p"}, predicates={"p": bool}
    ).fn is bool
    with pytest.raises(ConfigError, match="unknown termination"):
        condition_from_config({"type": "max_stepz", "n": 1})
    with pytest.raises(ConfigError, match="not registered"):
        condition_from_config({"type": "predicate", "name": "q"})

"""Debate: critic/proponent rounds, early agreement, moderator choice, several models."""

from __future__ import annotations

import asyncio

from forgekit.quality import Debate, Direct
from tests.scripted import last_user


def script(critiques, moderator="2"):
    state = {"p": 0, "c": 0}

    def fn(request):
        text = last_user(request)
        if text.startswith("You are a critic"):
            state["c"] += 1
            return critiques[state["c"] - 1]
        if text.startswith("You are the moderator"):
            return moderator
        state["p"] += 1
        return f"answer {state['p']}"

    return fn


def run(h, sample, **kw):
    solver = Debate(Direct("{input}"), critic_model="judge", moderator_model="other", **kw)
    return asyncio.run(solver.solve(sample, h.ctx(sample)))


def test_rounds_alternate_and_the_moderator_decides(harness, sample):
    h = harness(script(["Wrong: 2+3 is 5.", "Still wrong."], moderator="Answer 2"))
    answer = run(h, sample, rounds=2)
    roles = [c.events[0].solver for c in h.sink.children]
    assert roles == [
        "debate/proponent",
        "debate/critic",
        "debate/proponent",
        "debate/critic",
        "debate/proponent",
    ]
    assert [r.alias for r in h.requests] == ["m", "judge", "m", "judge", "m", "other"]
    defend = last_user(h.requests[2])
    assert "answer 1" in defend and "Wrong: 2+3 is 5." in defend
    assert answer.text == "answer 2" and answer.metadata["rounds"] == 2
    moderator_prompt = last_user(h.requests[-1])
    assert "Answer 3: answer 3" in moderator_prompt and "Critic on answer 1" in moderator_prompt


def test_critic_agreement_ends_the_debate(harness, sample):
    h = harness(script(["Minor slip.", "AGREE"]))
    answer = run(h, sample, rounds=3)
    assert answer.metadata["rounds"] == 2
    assert h.notes("early_exit")[0]["round"] == 2
    assert answer.text == "answer 2"  # the moderator (reply "2") chose the revision


def test_unreadable_moderator_takes_the_last_answer(harness, sample):
    h = harness(script(["No."], moderator="I cannot decide"))
    answer = run(h, sample, rounds=1)
    assert answer.text == "answer 2"
    assert h.notes("fallback")[0]["purpose"] == "moderator"


def test_proponent_model_is_forced_on_the_inner_solver(harness, sample):
    h = harness(script(["AGREE"]))
    answer = run(h, sample, rounds=1, proponent_model="other")
    assert h.requests[0].alias == "other"
    assert answer.metadata["calls"] == 2  # proponent + critic, no moderator needed

"""Guardrail: reject-then-accept with feedback, schema validation, LLM guardrail."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel

from forgekit.core.messages import Message
from forgekit.core.samples import Sample
from forgekit.quality import Direct, Guardrail, LLMValidator
from tests.scripted import last_user


def sequence(*replies):
    it = iter(replies)
    return lambda request: next(it)


def run(h, sample, solver):
    return asyncio.run(solver.solve(sample, h.ctx(sample)))


def test_reject_then_accept_injects_the_feedback(harness, sample):
    h = harness(sequence("five", "5"))

    def digits_only(answer, s):
        return "" if answer.text.strip().isdigit() else "answer with digits only"

    answer = run(h, sample, Guardrail(Direct("{input}"), validator=digits_only))
    assert answer.text == "5" and answer.metadata["accepted"] is True
    second = last_user(h.requests[1])
    assert second.startswith("What is 2 + 3?")
    assert "five" in second and "answer with digits only" in second
    assert [v["accepted"] for v in answer.metadata["validations"]] == [False, True]
    assert len(h.sink.children) == 2
    assert len(h.notes("validation")) == 2


def test_all_rejected_returns_the_last_with_the_reason(harness, sample):
    h = harness(sequence("a", "b"))
    answer = run(h, sample, Guardrail(Direct(), validator=lambda a, s: False, max_attempts=2))
    assert answer.text == "b" and answer.stop_reason == "rejected"
    assert answer.metadata["accepted"] is False


class Person(BaseModel):
    name: str
    age: int


def test_schema_validator_parses_the_json(harness, sample):
    h = harness(sequence('{"name": "Ada"}', 'Sure: ```json\n{"name": "Ada", "age": 36}\n```'))
    answer = run(h, sample, Guardrail(Direct(), validator=Person))
    assert answer.data == {"name": "Ada", "age": 36}
    assert "age" in answer.metadata["validations"][0]["feedback"]
    assert "age: Field required" in last_user(h.requests[1])


def test_llm_guardrail_pass_fail_and_unreadable(harness, sample):
    def fn(request):
        text = last_user(request)
        if text.startswith("Check the answer"):
            if "UNSURE" in text:
                return "hmm"
            return "PASS" if "polite" in text.split("Answer:")[1] else "FAIL: be polite"
        fn.n += 1
        return ["UNSURE", "rude", "a polite 5"][fn.n - 1]

    fn.n = 0
    h = harness(fn)
    guard = Guardrail(Direct(), validator=LLMValidator("Be polite.", model="judge"), max_attempts=3)
    answer = run(h, sample, guard)
    assert answer.text == "a polite 5"
    feedback = [v["feedback"] for v in answer.metadata["validations"]]
    assert feedback[0].startswith("unclear guardrail reply") and feedback[1] == "be polite"
    assert h.notes("fallback")[0]["decision"] == "reject"


def test_rules_from_config_build_an_llm_guardrail(harness, sample):
    h = harness(lambda r: "PASS" if last_user(r).startswith("Check") else "5")
    guard = Guardrail(Direct(), rules="Answer with a number.", guard_model="judge")
    answer = run(h, sample, guard)
    assert answer.metadata["accepted"] is True and h.requests[1].alias == "judge"


def test_chat_input_gets_the_feedback_as_messages(harness):
    s = Sample(id="c", input=[Message.user("Say hi")])
    h = harness(sequence("yo", "hi"))
    run(h, s, Guardrail(Direct(), validator=lambda a, _: "say hi" if a.text != "hi" else True))
    roles = [m.role for m in h.requests[1].messages]
    assert roles == ["user", "assistant", "user"]
    assert "say hi" in h.requests[1].messages[-1].content

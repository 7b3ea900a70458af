"""The prompt solver: templates (str.format and Jinja2), system prompt, few-shot, choices."""

from __future__ import annotations

import asyncio

import pytest

from forgekit.core.context import MemorySink, RunContext
from forgekit.core.messages import Message
from forgekit.core.samples import Sample
from forgekit.evals import PromptSolver
from forgekit.models import Gateway, ScriptedSource

MC = Sample(
    id="q",
    input="Which is a mammal?",
    choices=["Shark", "Dolphin"],
    target="B",
    metadata={"topic": "biology"},
)


def test_format_template_with_choices_and_metadata() -> None:
    s = PromptSolver(
        "[{topic}] {input}\n{choices}\nLetter:",
        system="Be brief.",
        few_shot=[{"user": "2+2?", "assistant": "4"}],
    )
    msgs = s.messages(MC)
    assert [m.role for m in msgs] == ["system", "user", "assistant", "user"]
    assert msgs[-1].content == "[biology] Which is a mammal?\nA. Shark\nB. Dolphin\nLetter:"


def test_jinja_template_and_strict_undefined() -> None:
    s = PromptSolver("{{ input }} ({{ sample.metadata.topic | upper }})")
    assert s.messages(MC)[-1].content == "Which is a mammal? (BIOLOGY)"
    with pytest.raises(Exception, match="nope"):
        PromptSolver("{{ nope }}").messages(MC)


def test_message_list_input_passes_through() -> None:
    sample = Sample(
        id="m", input=[Message.user("hi"), Message.assistant("yo"), Message.user("again")]
    )
    assert [m.content for m in PromptSolver().messages(sample)] == ["hi", "yo", "again"]


def test_solve_calls_the_gateway_with_params_and_records(config) -> None:
    src = ScriptedSource(["B"])
    sink = MemorySink()
    ctx = RunContext(gateway=Gateway(config, source=src), sink=sink, model="m1", sample=MC)
    solver = PromptSolver("{input}", params={"max_tokens": 5})
    answer = asyncio.run(solver.solve(MC, ctx))
    assert answer.text == "B" and answer.usage.output_tokens == 1
    assert src.requests[0].params["max_tokens"] == 5 and src.requests[0].alias == "m1"
    assert [e.type for e in sink.events] == ["model_call"]
    assert solver.config()["params"] == {"max_tokens": 5}

"""Judges on the embedded model (SmolLM2-135M via real llama.cpp): asked for their verdict
with a JSON schema, which llama.cpp enforces by grammar, nearly every judge call yields a
parsed verdict. Asserts the parse rate, never what the model judged."""

from __future__ import annotations

import pytest

from forgekit.core.context import MemorySink, RunContext
from forgekit.core.events import ModelCall
from forgekit.core.samples import Answer, Sample
from forgekit.core.sync import run_sync
from forgekit.evals import build_scorer
from forgekit.quality import Direct, Pairwise, ReviewerRetry

pytestmark = [pytest.mark.slow, pytest.mark.integration]

SAMPLES = [
    Sample(id="add", input="What is 2 + 3?", target="5"),
    Sample(id="capital", input="What is the capital of France?", target="Paris"),
]
UNREADABLE = {"unreadable verdict: tie", "unreadable score: sample skipped",
              "no readable choice: first attempt"}


def test_judges_on_the_embedded_model_parse_their_verdicts(local_gateway):
    inner = Direct("{input}\nAnswer in a few words.", max_tokens=8)
    strategies = [
        Pairwise(inner, n=2, temperature=0.8, judge_max_tokens=4),
        ReviewerRetry(inner, k=2, mode="score", threshold=None, temperature=0.8),
        ReviewerRetry(inner, k=2, mode="chooser", temperature=0.8),
    ]
    judge = build_scorer({"type": "judge", "max_tokens": 24})  # the grade comes first
    assert local_gateway.supports_response_schema("local")
    judged = parsed = 0
    for sample in SAMPLES:
        ctx = RunContext(gateway=local_gateway, sink=MemorySink(), model="local", sample=sample)
        score = run_sync(judge(sample, Answer(text=str(sample.target)), ctx))
        judged += 1
        parsed += score.error is None and score.value in (0.0, 1.0)
        for strategy in strategies:
            sink = MemorySink()
            ctx = RunContext(gateway=local_gateway, sink=sink, model="local", sample=sample)
            run_sync(strategy.solve(sample, ctx))
            calls = [e for e in sink.events if isinstance(e, ModelCall)]  # the judge's own
            assert all(c.error is None for c in calls)
            assert all(c.params["response_format"]["type"] == "json_object" for c in calls)
            unread = [
                e for e in sink.events
                if e.type == "note" and e.kind == "fallback" and e.data.get("reason") in UNREADABLE
            ]
            judged += len(calls)
            parsed += len(calls) - len(unread)
    assert judged >= 8
    print(f"{parsed} of {judged} judge verdicts parsed")
    assert parsed / judged >= 0.95, f"{parsed} of {judged} judge verdicts parsed"

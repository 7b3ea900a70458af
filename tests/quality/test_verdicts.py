"""Judges' verdicts as JSON: asked with a schema where the alias enforces one, read from
whole, embedded or cut-short JSON, and read as text when the reply is not JSON."""

from __future__ import annotations

import asyncio
import json

from forgekit.core.context import RunContext
from forgekit.core.samples import Answer
from forgekit.evals import build_scorer
from forgekit.quality import Direct, Pairwise, ReviewerRetry
from forgekit.quality.verdicts import json_field
from tests.quality.conftest import Harness
from tests.scripted import last_user


def test_json_field_reads_whole_embedded_and_cut_short_verdicts():
    assert json_field('{"grade": "C", "reason": "same"}', "grade") == "C"
    assert json_field('Sure!\n```json\n{"score": 7}\n```', "score") == 7
    assert json_field('{"grade": "I", "reason": "the answer names Ly', "grade") == "I"
    assert json_field('{"score": 7.5', "score") == 7.5
    assert json_field("GRADE: C", "grade") is None and json_field("", "x") is None


def _structured(h: Harness, on: bool = True) -> Harness:
    for alias in h.gateway.config.models.aliases.values():
        alias.response_schema = on
    return h


def test_strategies_ask_with_a_schema_and_read_json(sample):
    def reply(req):
        text = last_user(req)
        fmt = req.params.get("response_format")
        if fmt is None:  # a candidate
            return "5" if req.params.get("seed", 0) % 2 else "6"
        name = fmt["json_schema"]["name"]
        assert '"additionalProperties": false' in json.dumps(fmt) and "JSON only" in text
        return {"preference": '{"winner": "B"}', "score": '{"score": 9}',
                "choice": '{"choice": 2}'}[name]

    h = _structured(Harness(reply))
    inner = Direct("{input}")
    for strategy in [
        Pairwise(inner, n=2, temperature=0.5),
        ReviewerRetry(inner, k=2, mode="score", threshold=None, temperature=0.5),
        ReviewerRetry(inner, k=2, mode="chooser", temperature=0.5),
    ]:
        answer = asyncio.run(strategy.solve(sample, h.ctx(sample)))
        assert answer.metadata["chosen"] is not None
    assert h.notes("fallback") == []  # every verdict was read
    judged = [r for r in h.requests if "response_format" in r.params]
    assert len(judged) == 2 + 2 + 1
    assert all(r.params["max_tokens"] >= 24 for r in judged)


def test_without_a_schema_judges_ask_and_read_text(sample):
    h = _structured(
        Harness(lambda req: "Score: 8" if "score" in last_user(req).lower() else "5"), False
    )
    answer = asyncio.run(
        ReviewerRetry(Direct("{input}"), k=1, threshold=None).solve(sample, h.ctx(sample))
    )
    assert answer.metadata["chosen"] is not None and h.notes("fallback") == []
    assert all("response_format" not in r.params for r in h.requests)


def test_the_llm_judge_reads_a_json_grade(sample):
    h = _structured(Harness(lambda req: '{"grade": "C", "reason": "it says 5"}'))
    ctx = RunContext(gateway=h.gateway, sink=h.sink, model="judge", sample=sample)
    score = asyncio.run(build_scorer("judge")(sample, Answer(text="5"), ctx))
    assert score.value == 1.0 and score.error is None and "it says 5" in score.explanation
    assert h.requests[0].params["response_format"]["json_schema"]["name"] == "grade"

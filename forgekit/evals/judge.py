"""The LLM-judge scorer: a model grades the answer against a rubric, through the gateway
(so its cost is counted in the sample's trajectory). A reply that cannot be parsed is an
explicit scoring error keeping the raw text, never a default score."""

from __future__ import annotations

import re
from typing import Any

from forgekit.core.context import RunContext
from forgekit.core.samples import Answer, Sample, Score
from forgekit.evals.scorer_registry import scorer
from forgekit.quality.verdicts import STRUCTURED_NOTE, grade_format, json_field, supports_schema

DEFAULT_RUBRIC = (
    "The answer is correct if it states the same fact as the reference answer; "
    "extra explanation is fine, a wrong or missing fact is not."
)

JUDGE_TEMPLATE = """You are grading an answer to a question.

Question:
{question}

Reference answer:
{target}

Submitted answer:
{answer}

Rubric: {rubric}

Reply with a short reason, then on the last line exactly `GRADE: C` if the submitted
answer is correct or `GRADE: I` if it is incorrect."""

_GRADE = re.compile(r"GRADE\s*:\s*\**\s*([CIP])\b", re.I)
_VALUES = {"C": 1.0, "P": 0.5, "I": 0.0}


def parse_grade(text: str) -> float | None:
    """The grade in a judge reply (`GRADE: C|P|I`, last one wins), or None."""
    found = _GRADE.findall(text or "")
    return _VALUES[found[-1].upper()] if found else None


@scorer("judge")
async def judge(
    sample: Sample,
    answer: Answer,
    ctx: RunContext | None = None,
    *,
    model: str | None = None,
    rubric: str = DEFAULT_RUBRIC,
    template: str = JUDGE_TEMPLATE,
    max_tokens: int = 128,
) -> Score:
    """Ask the judge model (alias `model`, default: the run's model) to grade the answer."""
    if ctx is None:
        return Score(scorer="judge", error="the judge scorer needs a run context (gateway)")
    prompt = template.format(
        question=sample.input_text(),
        target=" / ".join(sample.targets) or "(none)",
        answer=answer.text,
        rubric=rubric,
    )
    params: dict[str, Any] = {"max_tokens": max_tokens, "temperature": 0.0}
    if supports_schema(ctx, model):  # the endpoint enforces the shape: any model answers
        prompt += STRUCTURED_NOTE.format(shape='{"grade": "C" | "I", "reason": "<one sentence>"}')
        params["response_format"] = grade_format()
    resp = await ctx.complete(prompt, model=model, **params)
    grade = json_field(resp.text, "grade")
    value = _VALUES[grade] if grade in _VALUES else parse_grade(resp.text)
    meta = {
        "judge_model": resp.alias or model,
        "judge_cost_usd": resp.cost_usd,
        "judge_tokens": resp.usage.input_tokens + resp.usage.output_tokens,
        "raw": resp.text,
    }
    if value is None:
        return Score(
            scorer="judge",
            value=None,
            answer=answer.text,
            error="judge reply could not be parsed (no JSON grade, no 'GRADE: C|I' line)",
            explanation=resp.text[:500],
            metadata=meta,
        )
    reason = json_field(resp.text, "reason")
    if not isinstance(reason, str):
        reason = resp.text.strip().splitlines()[0][:300] if resp.text.strip() else ""
    return Score(
        scorer="judge",
        value=value,
        answer=answer.text,
        explanation=f"judge graded {value:g}: {reason}",
        metadata=meta,
    )

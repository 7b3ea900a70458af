"""The LLM judge: parsed grades, its cost counted, an unparseable reply an explicit error."""

from __future__ import annotations

import asyncio
from pathlib import Path

from forgekit.core.context import MemorySink, RunContext
from forgekit.core.samples import Answer, Sample
from forgekit.evals import build_scorer, evaluate
from forgekit.evals.judge import parse_grade
from forgekit.models import Gateway, ScriptedSource

SAMPLE = Sample(id="q", input="Capital of France?", target=["Paris"])


def test_parse_grade() -> None:
    assert parse_grade("It names Paris.\nGRADE: C") == 1.0
    assert parse_grade("grade: i") == 0.0
    assert parse_grade("GRADE: C ... on reflection GRADE: I") == 0.0
    assert parse_grade("looks right to me") is None


def test_judge_grades_through_the_gateway_and_counts_cost(config) -> None:
    src = ScriptedSource(["Same city.\nGRADE: C"])
    sink = MemorySink()
    ctx = RunContext(gateway=Gateway(config, source=src), sink=sink, model="m1")
    judge = build_scorer({"type": "judge", "model": "m2", "rubric": "must be Paris"})
    s = asyncio.run(judge(SAMPLE, Answer(text="Paris"), ctx))
    assert s.value == 1.0 and s.error is None and "Same city" in s.explanation
    assert src.requests[0].alias == "m2"  # the configured judge alias, not the run's
    assert "must be Paris" in src.requests[0].messages[0].content
    assert s.metadata["judge_cost_usd"] > 0
    calls = [e for e in sink.events if e.type == "model_call"]
    assert len(calls) == 1 and calls[0].cost_usd == s.metadata["judge_cost_usd"]


def test_unparseable_judge_reply_is_a_scoring_error_with_raw_text(config) -> None:
    ctx = RunContext(gateway=Gateway(config, source=ScriptedSource(["I like it!"])), model="m1")
    s = asyncio.run(build_scorer("judge")(SAMPLE, Answer(text="Paris"), ctx))
    assert s.value is None and "could not be parsed" in s.error
    assert s.metadata["raw"] == "I like it!"


def test_judge_in_a_run_costs_count_and_errors_are_kept(
    config, write_suite, tmp_path: Path
) -> None:
    replies = iter(["Paris", "GRADE: C", "Lyon", "no idea"])
    suite = write_suite(
        samples=[
            {"id": "a", "input": "q1", "target": "Paris"},
            {"id": "b", "input": "q2", "target": "Paris"},
        ],
        concurrency=1,
        scorers=[{"type": "judge", "model": "m2"}, "includes"],
    )
    res = evaluate(
        suite,
        Gateway(config, source=ScriptedSource(lambda r: next(replies))),
        out_dir=tmp_path / "o",
        progress=False,
    )
    rows = {r["sample_id"]: r for r in res.df.iter_rows(named=True)}
    assert rows["a"]["score"] == 1.0 and rows["a"]["model_calls"] == 2
    assert rows["b"]["score"] is None and rows["b"]["score_errors"] == 1
    assert rows["a"]["cost_usd"] > 0
    summary = res.summary().row(0, named=True)
    assert summary["score_errors"] == 1 and summary["accuracy"] == 1.0

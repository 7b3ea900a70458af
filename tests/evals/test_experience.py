"""The experience pool in an evaluation: a YAML suite wraps a prompt solver in
`experience_pool`; real LanceDB and the packaged embedding model, a scripted model.
Near-duplicate tasks hit the pool (reuse: no model call; hint: a worked example in the
prompt), hits are recorded with the source run, and the summary reports hit rate and
accuracy of hits vs misses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from forgekit.evals import evaluate, experience_summary
from forgekit.models import Gateway, ScriptedSource

pytest.importorskip("lancedb")

SAMPLES = [
    {"id": "a", "input": "What is 12 + 30? Answer with a number.", "target": "42"},
    {"id": "b", "input": "Name the capital city of France.", "target": "Paris"},
    {"id": "a2", "input": "What is 12 + 30 ? Answer with a number!", "target": "42"},
    {"id": "c", "input": "How many legs does a spider have?", "target": "8"},
]


def _answers(request) -> str:
    text = request.messages[-1].content
    if "capital" in text:
        return "Lyon"  # wrong: never stored
    if "spider" in text:
        return "8"
    return "42"


def _suite(write_suite, mode: str, store: str):
    return write_suite(
        samples=SAMPLES,
        concurrency=1,
        scorers=["exact"],
        solvers=[
            {"name": "plain", "template": "{input}"},
            {
                "name": "pool",
                "type": "experience_pool",
                "options": {"inner": "plain", "mode": mode, "threshold": 0.9, "store": store},
            },
        ],
    )


def test_reuse_mode(config, write_suite, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FORGEKIT_HOME", str(tmp_path))
    seen: list[str] = []

    def reply(request):
        seen.append(request.messages[-1].content)
        return _answers(request)

    res = evaluate(
        _suite(write_suite, "reuse", "reuse"),
        Gateway(config, source=ScriptedSource(reply)),
        out_dir=tmp_path / "o",
        progress=False,
    )
    pool = res.df.filter(res.df["solver"] == "pool").sort("sample_index")
    assert pool["model_calls"].to_list() == [1, 1, 0, 1]  # a2 reused a's answer
    assert pool["score"].to_list() == [1.0, 0.0, 1.0, 1.0]
    assert res.experience().equals(experience_summary(res))
    summary = experience_summary(res).row(0, named=True)
    assert (summary["samples"], summary["hits"], summary["hit_rate"]) == (4, 1, 0.25)
    assert summary["accuracy_hits"] == 1.0 and summary["accuracy_misses"] == pytest.approx(2 / 3)
    assert summary["similarity_hits"] >= 0.9
    # the hit names its source run, which is the run that solved `a`
    from forgekit.trajectory import Trajectory

    row_a, row_a2 = pool.row(0, named=True), pool.row(2, named=True)
    (note,) = [
        e
        for e in Trajectory.load(row_a2["trajectory"]).events
        if e.type == "note" and e.kind == "experience"
    ]
    assert note.data["hit"] and note.data["source_run_id"] == row_a["run_id"]
    assert note.data["source_sample_id"] == "a" and note.data["source_score"] == 1.0
    # the plain solver never touched the pool
    assert experience_summary(res.df.filter(res.df["solver"] == "plain")).height == 0


def test_hint_mode_puts_the_worked_example_in_the_prompt(
    config, write_suite, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("FORGEKIT_HOME", str(tmp_path))
    prompts: list[str] = []

    def reply(request):
        prompts.append(request.messages[-1].content)
        return _answers(request)

    res = evaluate(
        _suite(write_suite, "hint", "hint"),
        Gateway(config, source=ScriptedSource(reply)),
        out_dir=tmp_path / "o",
        progress=False,
    )
    pool = res.df.filter(res.df["solver"] == "pool").sort("sample_index")
    assert pool["model_calls"].to_list() == [1, 1, 1, 1]
    hinted = [p for p in prompts if p.startswith("A similar task solved before")]
    assert len(hinted) == 1
    assert re.search(r"Task: What is 12 \+ 30\? Answer with a number\.\nAnswer: 42", hinted[0])
    assert experience_summary(res).row(0, named=True)["hits"] == 1

"""Suites whose solvers are quality strategies and agents (built through the registry)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from forgekit.core.errors import ConfigError
from forgekit.evals import evaluate
from forgekit.models import Gateway, ScriptedSource

SAMPLES = [{"id": f"s{i}", "input": f"what is {i} + {i}?", "target": str(2 * i)} for i in range(3)]


def test_best_of_n_wrapping_a_suite_solver_by_name(config, write_suite, tmp_path: Path) -> None:
    calls: list[dict] = []

    def reply(request):
        calls.append(request.params)
        n = int(re.findall(r"\d+", request.messages[-1].content)[0])
        # 2 of 3 candidates right: the vote must pick the right one
        return str(2 * n) if len(calls) % 3 else "7"

    suite = write_suite(
        samples=SAMPLES,
        concurrency=1,
        solvers=[
            {"name": "plain", "template": "{input}"},
            {
                "name": "bo3",
                "type": "best_of_n",
                "options": {"inner": "plain", "n": 3, "temperature": 0.5},
            },
            {
                "name": "bo3-inline",
                "type": "best_of_n",
                "options": {"n": 3, "inner": {"type": "prompt", "template": "Q: {input}"}},
            },
        ],
    )
    res = evaluate(
        suite, Gateway(config, source=ScriptedSource(reply)), out_dir=tmp_path / "o", progress=False
    )
    by = {s: res.df.filter(res.df["solver"] == s) for s in ("plain", "bo3", "bo3-inline")}
    assert by["bo3"]["model_calls"].to_list() == [3, 3, 3]
    assert by["bo3"]["score"].to_list() == [1.0, 1.0, 1.0]
    assert by["bo3-inline"]["status"].to_list() == ["completed"] * 3
    assert any(p.get("temperature") == 0.5 for p in calls)
    assert set(by["bo3"]["cost_usd"].to_list()) != {0.0}  # candidates' cost counted


def test_unknown_inner_name_is_a_config_error(config, write_suite, tmp_path: Path) -> None:
    suite = write_suite(solvers=[{"name": "bo", "type": "best_of_n", "options": {"inner": "nope"}}])
    with pytest.raises(ConfigError, match="'nope' is not a solver defined earlier"):
        evaluate(suite, Gateway(config, source=ScriptedSource(["1"])), out_dir=tmp_path / "o")


def test_agent_solver_from_a_suite(config, write_suite, tmp_path: Path) -> None:
    suite = write_suite(
        samples=SAMPLES[:1],
        solvers=[
            {
                "name": "agent",
                "type": "agent",
                "options": {"instructions": "Answer with a number.", "text_tools": True},
            }
        ],
    )
    res = evaluate(
        suite,
        Gateway(config, source=ScriptedSource(["The answer is 0."], cycle=True)),
        out_dir=tmp_path / "o",
        progress=False,
    )
    row = res.df.row(0, named=True)
    assert row["status"] == "completed", row["error"]
    assert row["model_calls"] >= 1 and row["score"] == 1.0

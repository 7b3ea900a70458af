"""`plan` / `forgekit eval --dry-run`: cells, calls, projected tokens and cost, budget;
no model is called and nothing is written."""

from __future__ import annotations

import pytest

from forgekit.evals import plan
from forgekit.evals.plan import calls_per_sample
from forgekit.models import Gateway, ScriptedSource


def test_plan_counts_cells_calls_tokens_and_cost(config, write_suite, tmp_path):
    path = write_suite(
        models=["m1", "m2"],
        solvers=[
            {"name": "p", "template": "{input}", "params": {"max_tokens": 10}},
            {"name": "bon", "type": "best_of_n", "options": {"inner": "p", "n": 3}},
        ],
        scorers=["numeric", {"type": "judge", "model": "m1"}],
        epochs=2,
        budget={"usd": 0.01},
    )
    source = ScriptedSource([])  # any call would fail: it has no replies
    p = plan(path, Gateway(config, source=source), out_dir=tmp_path / "out")
    assert source.requests == [] and not (tmp_path / "out").exists()
    assert [(r.model, r.solver) for r in p.rows] == [
        ("m1", "p"), ("m1", "bon"), ("m2", "p"), ("m2", "bon")
    ]
    prompt, bon = p.rows[0], p.rows[1]
    assert (prompt.samples, prompt.epochs, prompt.calls_per_sample) == (6, 2, 2)  # + judge
    assert prompt.calls == 6 * 2 * 2 and bon.calls_per_sample == 3 + 1
    assert prompt.output_tokens == 6 * 2 * 10 + 6 * 2 * 128
    assert prompt.cost_usd == pytest.approx(
        prompt.input_tokens * 0.01 / 1000 + prompt.output_tokens * 0.02 / 1000
    )
    assert p.calls == sum(r.calls for r in p.rows) == 2 * (24 + 48)
    assert p.within_budget is (p.cost_usd <= 0.01)
    text = str(p)
    assert "bon" in text and "budget $0.01" in text and "no model was called" in text


def test_plan_after_a_run_counts_what_is_already_done(config, write_suite, tmp_path):
    from forgekit.evals import evaluate

    path = write_suite()
    out = tmp_path / "out"
    evaluate(path, Gateway(config, source=ScriptedSource(["4"] * 6)), out_dir=out,
             progress=False)
    p = plan(path, Gateway(config, source=ScriptedSource([])), out_dir=out)
    assert p.already_done == 6
    assert "6 sample runs already finished" in str(p)


def test_strategies_know_their_call_counts():
    from forgekit.quality import BestOfN, Debate, Direct, Pairwise, ReviewerRetry

    inner = Direct("{input}")
    assert calls_per_sample(inner) == 1
    assert calls_per_sample(BestOfN(inner, n=5)) == 5
    assert calls_per_sample(Pairwise(inner, n=4)) == 4 + 3 * 2
    assert calls_per_sample(ReviewerRetry(inner, k=3, mode="score", judge_samples=2)) == 9
    assert calls_per_sample(ReviewerRetry(inner, k=3, mode="chooser")) == 4
    assert calls_per_sample(BestOfN(Pairwise(inner, n=2), n=2)) == 2 * (2 + 2)
    assert calls_per_sample(Debate(inner, rounds=2)) == 3 + 3

"""Every strategy on the embedded local model (SmolLM2-135M via llama.cpp), recorded with
the trajectory Recorder and replayed offline with ReplaySource: the replay makes no
model call and reproduces the same candidates and choice."""

from __future__ import annotations

import pytest

from forgekit.core.component import config_of
from forgekit.core.context import RunContext
from forgekit.core.samples import Sample
from forgekit.core.sync import run_sync
from forgekit.models import Gateway
from forgekit.quality import BestOfN, Debate, Direct, Guardrail, Pairwise, ReviewerRetry

pytestmark = pytest.mark.slow

PROMPT = "{input}\nAnswer with just the number."


def _replay_source(path):
    try:
        from forgekit.trajectory import ReplaySource, Trajectory
    except ImportError:
        from forgekit.trajectory.reader import Trajectory
        from forgekit.trajectory.replay import ReplaySource
    return ReplaySource(Trajectory.load(path)), Trajectory


def _strategies():
    inner = Direct(PROMPT, max_tokens=16)
    return {
        "best_of_n": BestOfN(inner, n=3, temperature=0.8),
        "pairwise": Pairwise(inner, n=2, temperature=0.8, judge_max_tokens=4),
        "reviewer": ReviewerRetry(inner, k=2, threshold=9, judge_max_tokens=6, temperature=0.8),
        "guardrail": Guardrail(
            inner,
            validator=lambda a, s: a.text.strip().isdigit() or "reply with digits only",
            max_attempts=2,
        ),
        "debate": Debate(inner, rounds=1, critic_max_tokens=24, moderator_max_tokens=4),
    }


@pytest.mark.parametrize("kind", list(_strategies()))
def test_strategy_on_local_model_records_and_replays(kind, local_gateway, tmp_path):
    from forgekit.trajectory.recorder import Recorder

    strategy = _strategies()[kind]
    sample = Sample(id="add", input="What is 2 + 3?", target="5")
    rec = Recorder.start(
        tmp_path,
        solver=strategy.name,
        config=config_of(strategy),
        models=["local"],
        sample_id=sample.id,
    )
    ctx = RunContext(gateway=local_gateway, sink=rec, model="local", sample=sample)
    answer = run_sync(strategy.solve(sample, ctx))
    ctx.end(answer)

    source, trajectory_cls = _replay_source(rec.path)
    traj = trajectory_cls.load(rec.path)
    calls = [e for t in traj.walk() for e in t.model_calls]
    meta = answer.metadata
    assert meta["strategy"] == strategy.kind
    assert 1 <= meta["calls"] == len(calls) <= 8  # a handful of short calls
    assert all(c.alias == "local" and c.error is None for c in calls)
    assert len(traj.children) == len(meta["candidates"]) >= 1
    assert {c.solver.split("/")[0] for c in traj.children} == {strategy.kind}
    assert [n for n in traj.events if n.type == "note" and n.kind == "choice"]
    assert meta["chosen"] is not None

    # offline replay: same candidates, same choice, zero model calls
    replay_gw = Gateway(local_gateway.config, source=source)
    sink_dir = tmp_path / "replay"
    rec2 = Recorder.start(sink_dir, solver=strategy.name, sample_id=sample.id)
    ctx2 = RunContext(gateway=replay_gw, sink=rec2, model="local", sample=sample)
    again = run_sync(_strategies()[kind].solve(sample, ctx2))
    ctx2.end(again)
    assert again.text == answer.text
    assert [c["text"] for c in again.metadata["candidates"]] == [
        c["text"] for c in meta["candidates"]
    ]
    assert again.metadata["chosen"] == meta["chosen"]
    assert source.remaining == 0

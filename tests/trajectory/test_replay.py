import asyncio

import pytest

from forgekit.core import ReplayDivergence, Sample
from forgekit.core.config import load_config
from forgekit.models import Gateway, ScriptedSource
from forgekit.trajectory import ReplaySource, Trajectory, diff
from tests.scripted import scripted_gateway
from tests.trajectory.trajectory_helpers import LoopSolver, record_run


def _replay_gateway(root, recording):
    cfg = load_config(env={"FORGEKIT_HOME": str(root)})
    cfg.cache.enabled = False
    return Gateway(cfg, source=ReplaySource(recording))


def test_replay_reproduces_events_and_answer_with_zero_source_calls(tmp_path, gateway_factory):
    sample = Sample(id="s1", input="go")
    gw = gateway_factory(lambda req: f"reply to {len(req.messages)} messages")
    first = asyncio.run(record_run(LoopSolver(steps=4, child=True), sample, gw, tmp_path / "a"))
    recorded = Trajectory.load(first, tmp_path / "a")

    replay_gw = _replay_gateway(tmp_path, recorded)
    second = asyncio.run(
        record_run(LoopSolver(steps=4, child=True), sample, replay_gw, tmp_path / "b")
    )
    replayed = Trajectory.load(second, tmp_path / "b")
    assert replay_gw.source.served == 5 and replay_gw.source.remaining == 0
    d = diff(recorded, replayed)
    assert d.same, d.text()
    assert replayed.answer == recorded.answer == "reply to 8 messages / reply to 1 messages"
    assert len(replayed.children) == 1


def test_a_changed_request_raises_divergence_naming_the_call_and_the_difference(tmp_path):
    sample = Sample(id="s1", input="go")
    gw = scripted_gateway(["a", "b", "c"], root=tmp_path)[0]
    run_id = asyncio.run(record_run(LoopSolver(steps=3), sample, gw, tmp_path / "a"))
    replay_gw = _replay_gateway(tmp_path, Trajectory.load(run_id, tmp_path / "a"))
    with pytest.raises(ReplayDivergence) as err:
        asyncio.run(
            record_run(LoopSolver(steps=3, prompt="other task"), sample, replay_gw, tmp_path / "b")
        )
    e = err.value
    assert e.step == 0
    msg = str(e)
    assert "model call #0" in msg
    assert '-   "content": "task: go",' in msg and '+   "content": "other task: go",' in msg
    assert e.expected["messages"][1]["content"] == "task: go"
    assert e.actual["messages"][1]["content"] == "other task: go"
    failed = Trajectory.load(next((tmp_path / "b").glob("*.jsonl")))
    assert failed.status == "failed" and "ReplayDivergence" in failed.error


def test_asking_for_more_calls_than_recorded_diverges_at_that_call(tmp_path):
    sample = Sample(id="s1", input="go")
    gw = scripted_gateway(["a", "b"], root=tmp_path)[0]
    run_id = asyncio.run(record_run(LoopSolver(steps=2), sample, gw, tmp_path / "a"))
    replay_gw = _replay_gateway(tmp_path, run_id and tmp_path / "a" / f"{run_id}.jsonl")
    with pytest.raises(ReplayDivergence, match="model call #2") as err:
        asyncio.run(record_run(LoopSolver(steps=3), sample, replay_gw, tmp_path / "b"))
    assert err.value.step == 2 and "all were used" in str(err.value)


def test_replay_matches_by_content_when_concurrent_calls_arrive_in_another_order(tmp_path):
    cfg = load_config(env={"FORGEKIT_HOME": str(tmp_path)})
    cfg.cache.enabled = False
    from forgekit.core import RunContext
    from forgekit.trajectory import Recorder

    async def fan_out(gw, runs_dir, order):
        rec = Recorder.start(runs_dir, solver="fan")
        ctx = RunContext(gateway=gw, sink=rec, model="local")
        children = [ctx.child(f"part{i}") for i in range(4)]
        outs = await asyncio.gather(*(children[i].complete(f"q{i}") for i in order))
        for c in children:
            c.end()
        ctx.end()
        return rec.run_id, [o.text for o in outs]

    src = ScriptedSource(lambda req: "answer " + req.messages[0].content)
    run_id, texts = asyncio.run(fan_out(Gateway(cfg, source=src), tmp_path / "a", [0, 1, 2, 3]))
    replay = ReplaySource(run_id, runs_dir=tmp_path / "a")
    assert len(replay.calls) == 4  # children's calls are in the recording
    _, texts2 = asyncio.run(fan_out(Gateway(cfg, source=replay), tmp_path / "b", [3, 1, 0, 2]))
    assert texts2 == ["answer q3", "answer q1", "answer q0", "answer q2"]
    assert replay.remaining == 0

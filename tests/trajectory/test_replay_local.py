"""Record a run against the real embedded model, then replay it with the model out of reach."""

import asyncio

import pytest

from forgekit.core import Sample
from forgekit.core.config import load_config
from forgekit.models import Gateway, LiteLLMSource
from forgekit.trajectory import ReplaySource, Trajectory, diff
from tests.trajectory.trajectory_helpers import LoopSolver, record_run


@pytest.mark.integration
@pytest.mark.slow
def test_record_on_the_local_model_then_replay_without_it(tmp_path, local_gateway, monkeypatch):
    sample = Sample(id="hello", input="Say hi in one word.")
    solver = LoopSolver(steps=2, child=True)
    params = local_gateway.config.models.aliases["local"].params
    monkeypatch.setitem(params, "max_tokens", 12)  # the gateway is shared by the session
    run_id = asyncio.run(record_run(solver, sample, local_gateway, tmp_path / "rec"))
    recorded = Trajectory.load(run_id, tmp_path / "rec")
    assert recorded.status == "completed" and len(recorded.model_calls) == 2
    assert all(c.error is None and c.usage.output_tokens > 0 for c in recorded.model_calls)

    # replay: a fresh gateway on a config whose local model is never started or reached
    async def no_network(self, request):
        raise AssertionError(f"replay reached the network for {request.alias}")

    monkeypatch.setattr(LiteLLMSource, "complete", no_network)
    cfg = load_config(env={"FORGEKIT_HOME": str(tmp_path)})
    cfg.cache.enabled = False
    cfg.models.aliases["local"].params["max_tokens"] = 12
    replay = ReplaySource(recorded)
    gw = Gateway(cfg, source=replay)
    second = asyncio.run(record_run(solver, sample, gw, tmp_path / "replay"))
    replayed = Trajectory.load(second, tmp_path / "replay")
    assert replay.served == 3 and replay.remaining == 0
    d = diff(recorded, replayed)
    assert d.same, d.text()
    assert replayed.answer == recorded.answer
    assert [e.type for e in replayed.events] == [e.type for e in recorded.events]

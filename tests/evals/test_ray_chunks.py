"""The Ray driver's bookkeeping — chunks, the backpressure window, a dead actor's chunk
resubmitted and deduplicated, the actors' adaptive limits — on a stand-in for Ray that
runs the real `EvalActor`s (real runners) in this process. The real local Ray is
exercised by `test_ray_executor.py` (it skips where a local Ray cannot start)."""

from __future__ import annotations

import asyncio
import sys
import types

import pytest

import forgekit.evals.ray_executor as ray_executor
from forgekit.evals import evaluate
from forgekit.evals.ray_executor import EvalActor, RayExecutor
from forgekit.models import Gateway
from tests.evals.test_executors import Overloaded


class ActorDied(Exception):
    pass


@pytest.fixture(autouse=True)
def _own_pool(monkeypatch):
    """Each test its own pool of idle actors (and of actor classes)."""
    monkeypatch.setattr(ray_executor, "_POOL", {})
    monkeypatch.setattr(ray_executor, "_CLASSES", {})


class _Handle:
    def __init__(self, fake: FakeRay) -> None:
        self.fake = fake
        self.actor = EvalActor()
        self.tasks: list[asyncio.Task] = []
        self.dead = False
        self.prepare = types.SimpleNamespace(remote=self._prepare)
        self.run_chunk = types.SimpleNamespace(remote=self._call)
        self.finish = types.SimpleNamespace(remote=self._finish)

    def _prepare(self, *args: object) -> asyncio.Task:
        self.fake.prepared += 1
        return asyncio.ensure_future(self.actor.prepare(*args))

    def _finish(self, token: str) -> asyncio.Task:
        async def run() -> object:
            if self.dead:
                raise ActorDied("actor died")
            return await self.actor.finish(token)

        return asyncio.ensure_future(run())

    def _call(self, token: str, part: list[int]) -> asyncio.Task:
        self.fake.calls.append(list(part))
        self.fake.peak = max(self.fake.peak, sum(
            len(p) for h in self.fake.handles for p, t in h.pending() if not t.done()) + len(part))

        async def run() -> object:
            if self.dead:
                raise ActorDied("actor died")
            return await self.actor.run_chunk(token, part)

        task = asyncio.ensure_future(run())
        task.part = part  # type: ignore[attr-defined]
        self.tasks.append(task)
        if self.fake.kill_after is not None and len(self.fake.calls) == self.fake.kill_after:
            self.dead = True  # this chunk and every later one on this actor fail
        return task

    def pending(self) -> list[tuple[list[int], asyncio.Task]]:
        return [(t.part, t) for t in self.tasks]  # type: ignore[attr-defined]


class FakeRay:
    """The few calls of Ray's API the executor makes."""

    def __init__(self, kill_after: int | None = None) -> None:
        self.calls: list[list[int]] = []
        self.handles: list[_Handle] = []
        self.killed: list[_Handle] = []
        self.kill_after = kill_after
        self.peak = 0
        self.prepared = 0
        self.module = types.ModuleType("ray")
        self.module.is_initialized = lambda: True
        self.module.put = lambda x: x
        self.module.kill = self.killed.append
        self.module.remote = self._remote
        self.module.get_runtime_context = lambda: types.SimpleNamespace(
            get_job_id=lambda: "job", get_node_id=lambda: str(id(self)))
        self.exceptions = types.ModuleType("ray.exceptions")
        self.exceptions.RayActorError = ActorDied

    def _remote(self, **_: object):
        fake = self

        class Cls:
            def __init__(self, cls: type) -> None:
                pass

            def options(self, **_: object) -> Cls:
                return self

            def remote(self) -> _Handle:
                handle = _Handle(fake)
                fake.handles.append(handle)
                return handle

        return Cls


def _run(config, write_suite, tmp_path, monkeypatch, fake: FakeRay, n: int = 60,
         keep: bool = False, out: str = "o"):
    monkeypatch.setitem(sys.modules, "ray", fake.module)
    monkeypatch.setitem(sys.modules, "ray.exceptions", fake.exceptions)
    alias = config.models.aliases["m1"]
    alias.concurrency, alias.max_concurrency, alias.max_retries = 4, 8, 5
    suite = write_suite(
        concurrency=8,
        samples=[{"id": f"s{i:03d}", "input": "x", "target": "0"} for i in range(n)],
    )
    executor = RayExecutor(2, chunk=3, keep_actors=keep)
    res = evaluate(suite, Gateway(config, source=Overloaded()), out_dir=tmp_path / out,
                   progress=False, executor=executor)
    return executor, res


def test_chunks_within_the_window_and_the_limits_recorded(
        config, write_suite, tmp_path, monkeypatch):
    fake = FakeRay()
    executor, res = _run(config, write_suite, tmp_path, monkeypatch, fake)
    assert res.df.height == 60 and res.df["status"].unique().to_list() == ["completed"]
    assert sorted(i for part in fake.calls for i in part) == list(range(60))
    assert max(len(p) for p in fake.calls) == 3 and len(fake.calls) > 20  # smaller last
    assert [len(p) for p in fake.calls][-3:] == [1, 1, 1]
    assert fake.peak <= 16  # twice the suite's concurrency in samples
    workers = res.meta["concurrency"]["m1"]["workers"]
    assert sorted(w["worker"] for w in workers) == [0, 1]
    assert [w["ceiling"] for w in workers] == [4, 4]  # the alias's limits split in two


def test_a_dead_actors_chunk_goes_to_a_fresh_actor(config, write_suite, tmp_path, monkeypatch):
    fake = FakeRay(kill_after=4)
    executor, res = _run(config, write_suite, tmp_path, monkeypatch, fake)
    assert executor.resubmitted >= 3 and len(fake.handles) == 3  # one replacement
    assert len(fake.killed) == 2  # not kept: both live actors ended
    assert res.df.height == 60 and res.df["status"].unique().to_list() == ["completed"]
    lines = (tmp_path / "o" / "results.jsonl").read_text().splitlines()
    assert len(lines) == 60  # each sample once


def test_idle_actors_serve_the_next_evaluation(config, write_suite, tmp_path, monkeypatch):
    """Actors outlive an evaluation (a fresh one is a fresh Python that imports Ray and
    forgekit): the next evaluation prepares the same actors for its own runner."""
    fake = FakeRay()
    _, first = _run(config, write_suite, tmp_path, monkeypatch, fake, keep=True, out="a")
    _, second = _run(config, write_suite, tmp_path, monkeypatch, fake, n=30, keep=True,
                     out="b")
    assert len(fake.handles) == 2 and fake.killed == [] and fake.prepared == 4
    assert first.df.height == 60 and second.df.height == 30
    assert all(h.actor.runner is None for h in fake.handles)  # gateways closed
    assert len(ray_executor._POOL[f"job/{id(fake)}"]) == 2


def test_a_kept_actor_whose_code_changed_is_replaced(
        config, write_suite, tmp_path, monkeypatch):
    """A module edited between two evaluations: the kept actors imported the old one,
    so fresh actors run the second evaluation (as a fresh process would)."""
    import importlib
    import os

    probe = tmp_path / "fk_stale_probe.py"
    probe.write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("fk_stale_probe")
    try:
        fake = FakeRay()
        _run(config, write_suite, tmp_path, monkeypatch, fake, keep=True, out="a")
        assert len(fake.handles) == 2
        st = probe.stat()
        os.utime(probe, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # edited
        _, second = _run(config, write_suite, tmp_path, monkeypatch, fake, n=30, keep=True,
                         out="b")
        assert len(fake.handles) == 4 and {id(h) for h in fake.killed} == {
            id(h) for h in fake.handles[:2]}
        assert second.df.height == 30 and second.df["status"].unique().to_list() == [
            "completed"]
    finally:
        sys.modules.pop("fk_stale_probe", None)

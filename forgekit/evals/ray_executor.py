"""Samples on Ray actors: `forgekit eval SUITE --executor ray [--address ADDR]`.

Each actor is an async Ray actor holding a runner rebuilt from the suite and the
gateway's config (`executors.worker_payload`); the driver (this process) submits grid
items with a backpressure window, owns the results log (one writer, dedupe by key), and
gives the items of an actor that died to a fresh actor. Trajectories are written by the
actors under the eval's `runs/`: on a cluster, give the eval an `out_dir` that every node
shares (NFS, a mounted bucket).

Needs the optional extra: ``pip install 'forgekit[ray]'``. Without an address a local
Ray is started for the run (and stopped after it); with one, the existing cluster is
joined (``ray://host:10001`` or ``auto``) and left running.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from forgekit.core.errors import ConfigError
from forgekit.evals.executors import OnRecord, build_worker_runner, worker_payload
from forgekit.evals.sample_result import SampleResult

log = logging.getLogger(__name__)


class EvalActor:
    """One Ray actor: a runner of its own; runs grid items one call at a time each."""

    def __init__(self, payload: bytes) -> None:
        import gc

        self.runner = build_worker_runner(payload)
        self.grid = self.runner.grid()
        self.live = self.runner.live_cls(total=0)
        self.sems: dict[str, asyncio.Semaphore] = {}
        gc.freeze()

    async def run(self, i: int) -> SampleResult | None:
        model = self.grid[i][0]
        sem = self.sems.get(model)
        if sem is None:
            sem = self.sems[model] = asyncio.Semaphore(self.runner.concurrency)
        async with sem:
            rec = await self.runner.run_item(i, self.live)
        if rec is not None:
            self.live.update(rec)
        return rec

    def pid(self) -> int:
        import os

        return os.getpid()


class RayExecutor:
    """Grid items on `actors` async Ray actors.

    Args:
        actors: how many actors (one process each).
        address: an existing cluster (None: a local Ray for this run).
        window: the most items in flight at once (default: twice the suite's
            concurrency); the rest wait, so a large grid never floods the cluster.
        max_resubmits: how often one item may be given to a fresh actor.
        num_cpus: CPUs of a local Ray (default: `actors`).
    """

    def __init__(
        self,
        actors: int = 2,
        *,
        address: str | None = None,
        window: int | None = None,
        max_resubmits: int = 3,
        num_cpus: int | None = None,
    ) -> None:
        self.n = max(1, actors)
        self.address = address
        self.window = window
        self.max_resubmits = max_resubmits
        self.num_cpus = num_cpus
        self.actors: list[Any] = []  # live actor handles (tests kill one)
        self.resubmitted = 0

    def _ray(self) -> Any:
        try:
            import ray
        except ImportError:
            raise ConfigError(
                "--executor ray needs Ray: pip install 'forgekit[ray]'", key="executor"
            ) from None
        return ray

    async def execute(self, runner: Any, items: list[int], on_record: OnRecord) -> None:
        if not items:
            return
        ray = self._ray()
        started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if self.address:
                kwargs["address"] = self.address
            else:
                kwargs["num_cpus"] = self.num_cpus or self.n
            await asyncio.to_thread(ray.init, **kwargs)
            started = True
        try:
            await self._run(ray, runner, items, on_record)
        finally:
            for actor in self.actors:
                ray.kill(actor)
            self.actors.clear()
            if started:
                await asyncio.to_thread(ray.shutdown)

    async def _run(self, ray: Any, runner: Any, items: list[int], on_record: OnRecord) -> None:
        from ray.exceptions import RayActorError

        payload = ray.put(worker_payload(runner, self.n))
        per_actor = max(1, -(-runner.concurrency // self.n))
        remote = ray.remote(num_cpus=0)(EvalActor).options(max_concurrency=per_actor + 1)

        def spawn() -> Any:
            return remote.remote(payload)

        self.actors = [spawn() for _ in range(self.n)]
        queue = list(reversed(items))
        tries: dict[int, int] = {}
        window = self.window or max(2 * runner.concurrency, self.n)
        inflight: dict[asyncio.Future, tuple[int, Any]] = {}
        turn = 0

        def submit(i: int) -> None:
            nonlocal turn
            actor = self.actors[turn % len(self.actors)]
            turn += 1
            ref = actor.run.remote(i)
            inflight[asyncio.ensure_future(_awaited(ref))] = (i, actor)

        while queue or inflight:
            while queue and len(inflight) < window:
                submit(queue.pop())
            finished, _ = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
            for fut in finished:
                i, actor = inflight.pop(fut)
                try:
                    rec = fut.result()
                    if rec is not None:
                        on_record(rec)
                except RayActorError as e:
                    tries[i] = tries.get(i, 0) + 1
                    if tries[i] > self.max_resubmits:
                        raise RuntimeError(
                            f"grid item {i} was lost with {tries[i]} actors: {e}"
                        ) from None
                    if actor in self.actors:  # replace the dead actor once
                        log.warning("a Ray actor died; its items go to a fresh actor")
                        self.actors[self.actors.index(actor)] = spawn()
                    self.resubmitted += 1
                    queue.append(i)


async def _awaited(ref: Any) -> Any:
    return await ref

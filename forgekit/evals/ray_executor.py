"""Samples on Ray actors: `forgekit eval SUITE --executor ray [--address ADDR]`.

Each actor is an async Ray actor holding a runner rebuilt from the suite and the
gateway's config (`executors.worker_payload`); the driver (this process) submits grid
items in chunks (one Ray call runs `chunk` samples concurrently on the actor and returns
their records with the actor's adaptive concurrency limits: a Ray call costs ~1 ms of
CPU, too much to pay per sample), keeps a backpressure window of items in flight
(`asyncio.wait` on the calls' refs), owns the results log (one writer, dedupe by key),
and gives the items of an actor that died to a fresh actor. Trajectories are written by the
actors under the eval's `runs/`: on a cluster, give the eval an `out_dir` that every node
shares (NFS, a mounted bucket).

Needs the optional extra: ``pip install 'forgekit[ray]'``. Without an address a local
Ray is started for the run (and stopped after it); with one, the existing cluster is
joined (``ray://host:10001`` or ``auto``) and left running.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from forgekit.core.errors import ConfigError
from forgekit.evals.executors import OnRecord, build_worker_runner, merge_limits, worker_payload
from forgekit.evals.sample_result import SampleResult

if TYPE_CHECKING:
    from forgekit.evals.runner import Runner

log = logging.getLogger(__name__)


class EvalActor:
    """One Ray actor: a runner of its own; runs chunks of grid items concurrently."""

    def __init__(self, payload: bytes) -> None:
        import gc

        self.runner = build_worker_runner(payload)
        self.grid = self.runner.grid()
        self.live = self.runner.live_cls(total=0)
        self.sems: dict[str, asyncio.Semaphore] = {}
        gc.freeze()

    async def run_chunk(self, items: list[int]) -> tuple[list[SampleResult], dict[str, Any]]:
        """Run grid items concurrently (under the runner's limit); their records, and
        this actor's adaptive concurrency limits."""
        recs = await asyncio.gather(*(self.run(i) for i in items))
        return [r for r in recs if r is not None], self.runner.gateway.concurrency()

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
        chunk: items per Ray call (default: a quarter of an actor's concurrency, at
            most 16).
        max_resubmits: how often one item may be given to a fresh actor.
        num_cpus: CPUs of a local Ray (default: `actors`).
    """

    def __init__(
        self,
        actors: int = 2,
        *,
        address: str | None = None,
        window: int | None = None,
        chunk: int | None = None,
        max_resubmits: int = 3,
        num_cpus: int | None = None,
    ) -> None:
        self.n = max(1, actors)
        self.address = address
        self.window = window
        self.chunk = chunk
        self.max_resubmits = max_resubmits
        self.num_cpus = num_cpus
        self.actors: list[Any] = []  # live actor handles (tests kill one)
        self.resubmitted = 0
        self.limits: dict[int, dict[str, dict[str, Any]]] = {}  # actor -> alias -> AIMD

    def concurrency(self) -> dict[str, dict[str, Any]]:
        """The actors' adaptive limits per alias (see `executors.merge_limits`)."""
        return merge_limits(self.limits)

    def _ray(self) -> Any:
        try:
            import ray
        except ImportError:
            raise ConfigError(
                "--executor ray needs Ray: pip install 'forgekit[ray]'", key="executor"
            ) from None
        return ray

    async def execute(self, runner: Runner, items: list[int], on_record: OnRecord) -> None:
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

    async def _run(self, ray: Any, runner: Runner, items: list[int], on_record: OnRecord) -> None:
        from ray.exceptions import RayActorError

        payload = ray.put(worker_payload(runner, self.n))
        per_actor = max(1, -(-runner.concurrency // self.n))
        chunk = self.chunk or max(1, min(16, per_actor // 4))
        window = self.window or max(2 * runner.concurrency, self.n * chunk)
        chunk = min(chunk, window)
        # an async actor runs this many calls at once; its runner bounds the samples
        remote = ray.remote(num_cpus=0)(EvalActor).options(
            max_concurrency=max(8, 2 * -(-window // (chunk * self.n))))

        def spawn() -> Any:
            return remote.remote(payload)

        self.actors = [spawn() for _ in range(self.n)]
        slots = {id(a): k for k, a in enumerate(self.actors)}
        queue = list(reversed(items))
        tries: dict[int, int] = {}
        inflight: dict[asyncio.Future, tuple[list[int], Any]] = {}
        held = 0  # items in flight
        turn = 0

        def submit(part: list[int]) -> None:
            nonlocal turn, held
            actor = self.actors[turn % len(self.actors)]
            turn += 1
            held += len(part)
            inflight[asyncio.ensure_future(_awaited(actor.run_chunk.remote(part)))] = (
                part, actor)

        while queue or inflight:
            while queue and held + min(chunk, len(queue)) <= window:
                part = [queue.pop() for _ in range(min(chunk, len(queue)))]
                submit(part)
            finished, _ = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
            for fut in finished:
                part, actor = inflight.pop(fut)
                held -= len(part)
                try:
                    recs, limits = fut.result()
                except RayActorError as e:
                    for i in part:
                        tries[i] = tries.get(i, 0) + 1
                        if tries[i] > self.max_resubmits:
                            raise RuntimeError(
                                f"grid item {i} was lost with {tries[i]} actors: {e}"
                            ) from None
                    if actor in self.actors:  # replace the dead actor once
                        log.warning("a Ray actor died; its items go to a fresh actor")
                        k = self.actors.index(actor)
                        self.actors[k] = spawn()
                        slots[id(self.actors[k])] = slots.pop(id(actor), k)
                    self.resubmitted += len(part)
                    queue.extend(reversed(part))
                    continue
                self.limits[slots.get(id(actor), -1)] = limits
                for rec in recs:
                    on_record(rec)


async def _awaited(ref: Any) -> Any:
    return await ref

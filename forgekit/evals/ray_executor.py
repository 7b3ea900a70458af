"""Samples on Ray actors: `forgekit eval SUITE --executor ray [--address ADDR]`.

Each actor is an async Ray actor that runs one evaluation at a time: `prepare` rebuilds
the runner from the suite and the gateway's config (`executors.worker_payload`), and the
driver (this process) submits grid items in chunks (one Ray call runs `chunk` samples
concurrently on the actor and returns their records with the actor's adaptive
concurrency limits: a Ray call costs ~1 ms of CPU, too much to pay per sample), keeps a
backpressure window of items in flight (`asyncio.wait` on the calls' refs, the least
busy actor gets the next chunk), owns the results log (one writer, dedupe by key), and
gives the items of an actor that died to a fresh actor. Trajectories are written by the
actors under the eval's `runs/`: on a cluster, give the eval an `out_dir` that every node
shares (NFS, a mounted bucket).

Actors outlive the evaluation while this process stays connected to the Ray it joined
(`keep_actors`): a fresh actor is a fresh Python that imports Ray and forgekit (1-4 s of
CPU, more than a thousand samples cost), so the next evaluation reuses the idle ones
(one whose imported code was edited since is replaced by a fresh one);
`release_actors()` ends them. A Ray that the executor started itself (no Ray running,
no address) is stopped after the run, with its actors.

A suite with a budget shares it across the actors through a budget actor
(`forgekit.evals.ray_budget`).

Needs the optional extra: ``pip install 'forgekit[ray]'``. Without an address a local
Ray is started for the run (and stopped after it); with one, the existing cluster is
joined (``ray://host:10001`` or ``auto``) and left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import uuid
from typing import TYPE_CHECKING, Any

from forgekit.core.errors import ConfigError
from forgekit.evals.executors import OnRecord, build_worker_runner, merge_limits, worker_payload
from forgekit.evals.ray_budget import BudgetActor, RayBudget
from forgekit.evals.sample_result import SampleLine, SampleResult

if TYPE_CHECKING:
    from pathlib import Path

    from forgekit.evals.runner import Runner

log = logging.getLogger(__name__)

_POOL: dict[str, list[Any]] = {}  # idle actors per Ray connection (job and node)
_CLASSES: dict[str, Any] = {}  # the actor classes made remote, per connection
_LOCK = threading.Lock()


def _connection(ray: Any) -> str:
    ctx = ray.get_runtime_context()
    return f"{ctx.get_job_id()}/{ctx.get_node_id()}"


def release_actors() -> int:
    """End the idle actors kept for later evaluations; how many there were."""
    import ray

    with _LOCK:
        idle = [a for handles in _POOL.values() for a in handles]
        _POOL.clear()
        _CLASSES.clear()
    if ray.is_initialized():
        for actor in idle:
            ray.kill(actor)
    return len(idle)


class EvalActor:
    """One Ray actor: the runner of the evaluation it was last prepared for; runs chunks
    of its grid items concurrently."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.runner: Any = None
        self.live: Any = None
        self.grid: list[Any] = []
        self.sems: dict[str, asyncio.Semaphore] = {}
        self._sweep: asyncio.TimerHandle | None = None  # the last run's garbage, soon

    async def prepare(self, token: str, payload: bytes, budget: Any = None, slot: int = 0,
                      state: dict[str, float] | None = None) -> list[str]:
        """Build the runner of evaluation `token` (and its share of the budget). Returns
        the modules whose files changed since this actor imported them (then it builds
        nothing: its code is stale, the driver starts a fresh actor instead)."""
        import gc

        stale = self._stale_modules()
        if stale:
            return stale
        await self._retire()  # a run that did not finish
        if self._sweep is not None:  # its garbage is not swept yet: now, before freezing
            self._sweep.cancel()
            self._collect()
        runner = build_worker_runner(payload)
        if budget is not None:
            b = runner.suite.budget
            runner.budget = RayBudget(b.usd, b.tokens, slot=slot, actor=budget, state=state)
        self.runner, self.token = runner, token
        self.grid = runner.grid()
        self.live = runner.live_cls(total=0)
        self.sems = {}
        gc.freeze()  # imports and the runner: out of the collector's way for the run
        return []

    def _stale_modules(self) -> list[str]:
        """Modules whose source changed since this actor first saw them (a file edited
        between two evaluations: a kept actor would run the old code). ~10 ms a call."""
        import sys

        seen = self.__dict__.setdefault("_mtimes", {})
        stale = []
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if not path:
                continue
            try:
                mtime = os.stat(path).st_mtime_ns
            except OSError:
                continue
            if seen.setdefault(path, mtime) != mtime:
                stale.append(name)
        return stale

    async def run_chunk(self, token: str, items: list[int]
                        ) -> tuple[list[SampleLine], dict[str, Any], int, str | None]:
        """Run grid items concurrently (under the runner's limit): their records (as
        results-log lines, made here: ~4 us to move against ~70 us for a SampleResult),
        this actor's adaptive concurrency limits, how many the budget left unstarted, and
        why it stopped."""
        if token != self.token:
            raise RuntimeError(f"this actor runs evaluation {self.token}, not {token}")
        runner = self.runner
        recs = await asyncio.gather(*(self.run(i) for i in items))
        if runner.budget is not None:
            await runner.budget.flush()  # the spend of these records is on the books
        done = [SampleLine.of(r) for r in recs if r is not None]
        return done, runner.gateway.concurrency(), len(recs) - len(done), runner.stopped

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

    async def finish(self, token: str) -> None:
        """The evaluation is over: close its gateway (sessions, connections)."""
        if token == self.token:
            await self._retire()

    async def _retire(self) -> None:
        """Close the runner's gateway and let its objects go: a full collection of an
        actor's heap (Ray, gRPC, forgekit) costs ~0.1 s of CPU, so it runs a little
        later, while the actor is idle (or at the next `prepare`, if that comes first)."""
        import gc

        runner, self.runner, self.token = self.runner, None, None
        if runner is None:
            return
        await runner.gateway.aclose()
        gc.unfreeze()
        self._sweep = asyncio.get_running_loop().call_later(0.5, self._collect)

    def _collect(self) -> None:
        import gc

        self._sweep = None
        gc.collect()

    def pid(self) -> int:
        return os.getpid()


class RayExecutor:
    """Grid items on `actors` async Ray actors.

    Args:
        actors: how many actors (one process each).
        address: an existing cluster (None: a local Ray for this run).
        window: the most items in flight at once (default: twice the suite's
            concurrency); the rest wait, so a large grid never floods the cluster.
        chunk: items per Ray call (default: half an actor's share of the suite's
            concurrency, at most 32).
        max_resubmits: how often one item may be given to a fresh actor.
        num_cpus: CPUs of a local Ray (default: `actors`).
        keep_actors: leave the actors running for the next evaluation in this process
            (on a Ray this executor did not start); `release_actors()` ends them.
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
        keep_actors: bool = True,
    ) -> None:
        self.n = max(1, actors)
        self.address = address
        self.window = window
        self.chunk = chunk
        self.max_resubmits = max_resubmits
        self.num_cpus = num_cpus
        self.keep_actors = keep_actors
        self.actors: list[Any] = []  # live actor handles (tests kill one)
        self.resubmitted = 0
        self.limits: dict[int, dict[str, dict[str, Any]]] = {}  # actor -> alias -> AIMD
        self._started = False  # this executor started the local Ray
        self._starting: asyncio.Future | None = None
        self._budget: RayBudget | None = None
        self._budget_args: tuple[str, float | None, int | None] | None = None
        self._budget_actor: asyncio.Future | None = None

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

    # -- Ray and the budget actor, made once per evaluation on first need -----------------

    async def _ensure_ray(self) -> Any:
        ray = self._ray()
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start(ray))
        await self._starting
        return ray

    async def _start(self, ray: Any) -> None:
        if ray.is_initialized():
            return
        if self.address:
            await asyncio.to_thread(ray.init, address=self.address, log_to_driver=False)
        else:
            from forgekit.evals.ray_start import start_local_ray

            await asyncio.to_thread(start_local_ray, self.num_cpus or self.n)
        self._started = True

    def open_budget(self, out_dir: str | Path, max_usd: float | None, max_tokens: int | None
                    ) -> RayBudget:
        """The run's budget (the runner asks before it runs anything): held by a budget
        actor that the actors and this process share."""
        self._budget_args = (str(out_dir), max_usd, max_tokens)
        self._budget = RayBudget.for_driver(out_dir, max_usd, max_tokens, self._connect_budget)
        self._budget.on_close = self._close_budget
        return self._budget

    async def _connect_budget(self) -> Any:
        if self._budget_actor is None:
            self._budget_actor = asyncio.ensure_future(self._make_budget_actor())
        return await self._budget_actor

    async def _make_budget_actor(self) -> Any:
        ray = await self._ensure_ray()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        assert self._budget_args is not None
        # on this node: it appends to the eval folder's spend ledger
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(),
                                              soft=False)
        actor = ray.remote(num_cpus=0)(BudgetActor).options(scheduling_strategy=here).remote(
            *self._budget_args)
        await actor.state.remote()  # up (or its error, here)
        return actor

    def _close_budget(self) -> None:
        """The runner is done with the budget: end the budget actor (and the Ray this
        executor started, which stayed up for it)."""
        budget, self._budget = self._budget, None
        self._budget_actor = None
        if budget is not None and budget.actor is not None:
            ray = self._ray()
            try:
                ray.get(budget.actor.close.remote(), timeout=30)
            except Exception as e:  # the ledger has every settled call already
                log.warning("the budget actor did not close: %s", e)
            with contextlib.suppress(Exception):
                ray.kill(budget.actor)
        self._stop_ray()

    def _stop_ray(self) -> None:
        self._starting = None
        if self._started and self._budget is None:
            self._started = False
            self._ray().shutdown()

    # -- the run ------------------------------------------------------------------------------

    async def execute(self, runner: Runner, items: list[int], on_record: OnRecord) -> None:
        if not items:
            return
        if runner.stopped:  # the budget was spent by earlier runs
            runner.not_run += len(items)
            return
        try:
            ray = await self._ensure_ray()
            await self._run(ray, runner, items, on_record)
        finally:
            if self._budget is None:
                await asyncio.to_thread(self._stop_ray)

    def _take(self, ray: Any, n: int, *, fresh: bool = False) -> list[Any]:
        """`n` actors: idle ones first (unless `fresh`), then new ones."""
        key = _connection(ray)
        with _LOCK:
            for old in [k for k in (*_POOL, *_CLASSES) if k != key]:  # an earlier Ray's
                _POOL.pop(old, None)
                _CLASSES.pop(old, None)
            idle = _POOL.setdefault(key, [])
            taken = [] if fresh else [idle.pop() for _ in range(min(n, len(idle)))]
            remote = _CLASSES.get(key)
            if remote is None:
                # an async actor runs up to 1000 calls at once; the window bounds them
                remote = _CLASSES[key] = ray.remote(num_cpus=0)(EvalActor).options(
                    max_concurrency=1000)
        return taken + [remote.remote() for _ in range(n - len(taken))]

    def _give_back(self, ray: Any, actors: list[Any], idle: bool) -> None:
        """Actors after a run: kept for the next one (`idle`: none of their calls is
        still running), or ended."""
        if idle and self.keep_actors and not self._started:
            with _LOCK:
                _POOL.setdefault(_connection(ray), []).extend(actors)
        else:
            for actor in actors:
                ray.kill(actor)

    async def _run(self, ray: Any, runner: Runner, items: list[int], on_record: OnRecord) -> None:
        from ray.exceptions import RayActorError

        budget = runner.budget if isinstance(runner.budget, RayBudget) else None
        budget_actor = await budget._actor() if budget is not None else None
        payload = ray.put(worker_payload(runner, self.n, shared_budget=True))
        token = uuid.uuid4().hex
        per_actor = max(1, -(-runner.concurrency // self.n))
        chunk = self.chunk or max(1, min(32, per_actor // 2))
        window = self.window or max(2 * runner.concurrency, self.n * chunk)
        chunk = min(chunk, window)

        slot_of: dict[int, int] = {}  # id(actor) -> its slot in the budget
        load: dict[int, int] = {}  # id(actor) -> items in flight; only ready actors
        preparing: dict[asyncio.Future, Any] = {}
        inflight: dict[asyncio.Future, tuple[list[int], Any]] = {}
        everyone: list[Any] = []  # every handle of the run (so no id is reused)
        replaced = 0

        def prepare(actor: Any) -> None:
            everyone.append(actor)
            slot = slot_of[id(actor)] = len(everyone)
            state = dict(budget.state) if budget is not None else None
            ref = actor.prepare.remote(token, payload, budget_actor, slot, state)
            preparing[asyncio.ensure_future(_awaited(ref))] = actor

        def replace(actor: Any, err: Exception) -> None:
            nonlocal replaced
            replaced += 1
            if replaced > self.max_resubmits * self.n:
                raise RuntimeError(f"{replaced} Ray actors died in this run: {err}") from None
            load.pop(id(actor), None)
            if actor in self.actors:
                log.warning("a Ray actor died; its items go to a fresh actor")
                fresh = self._take(ray, 1)[0]
                self.actors[self.actors.index(actor)] = fresh
                prepare(fresh)

        async def clear(actor: Any) -> None:
            if budget_actor is not None:  # its calls in flight will never settle
                await _awaited(budget_actor.clear_slot.remote(slot_of[id(actor)]))

        self.actors = self._take(ray, self.n)
        for actor in self.actors:
            prepare(actor)
        queue = list(reversed(items))
        tries: dict[int, int] = {}
        held = 0  # items in flight
        clean = False
        try:
            while queue or inflight or preparing:
                if runner.stopped and queue:  # the budget is spent: the rest is not started
                    runner.not_run += len(queue)
                    queue.clear()
                while queue and load and held + min(chunk, len(queue)) <= window:
                    actor = next(a for a in self.actors
                                 if load.get(id(a)) == min(load.values()))
                    # chunks shrink as the queue empties: a chunk returns when its
                    # slowest sample does, so the last ones should be small
                    size = min(chunk, -(-len(queue) // (2 * len(self.actors))))
                    part = [queue.pop() for _ in range(size)]
                    held += len(part)
                    load[id(actor)] += len(part)
                    ref = actor.run_chunk.remote(token, part)
                    inflight[asyncio.ensure_future(_awaited(ref))] = (part, actor)
                if not (inflight or preparing):
                    raise RuntimeError(f"{len(queue)} items left and no Ray actor to run them")
                finished, _ = await asyncio.wait([*inflight, *preparing],
                                                 return_when=asyncio.FIRST_COMPLETED)
                for fut in finished:
                    if fut in preparing:
                        actor = preparing.pop(fut)
                        try:
                            stale = fut.result()
                        except RayActorError as e:
                            replace(actor, e)
                            continue
                        if stale and actor in self.actors:  # code edited since it started
                            log.info("a kept Ray actor imported an older %s: a fresh one "
                                     "takes its place", stale[0])
                            ray.kill(actor)
                            fresh = self._take(ray, 1, fresh=True)[0]
                            self.actors[self.actors.index(actor)] = fresh
                            prepare(fresh)
                        elif actor in self.actors:
                            load[id(actor)] = 0
                        continue
                    part, actor = inflight.pop(fut)
                    held -= len(part)
                    if id(actor) in load:
                        load[id(actor)] -= len(part)
                    try:
                        recs, limits, not_run, stopped = fut.result()
                    except RayActorError as e:
                        for i in part:
                            tries[i] = tries.get(i, 0) + 1
                            if tries[i] > self.max_resubmits:
                                raise RuntimeError(
                                    f"grid item {i} was lost with {tries[i]} actors: {e}"
                                ) from None
                        if id(actor) in load:  # replace the dead actor once
                            await clear(actor)
                            replace(actor, e)
                        self.resubmitted += len(part)
                        queue.extend(reversed(part))
                        continue
                    if actor in self.actors:  # a replacement reports for its place
                        self.limits[self.actors.index(actor)] = limits
                    runner.not_run += not_run
                    runner.stopped = runner.stopped or stopped
                    for rec in recs:
                        on_record(rec)
            clean = True
        finally:
            for fut in [*inflight, *preparing]:
                fut.cancel()
            actors, self.actors = self.actors, []
            if clean:
                actors = await _finish(actors, token)
            self._give_back(ray, actors, idle=clean)


async def _finish(actors: list[Any], token: str) -> list[Any]:
    """Close the actors' gateways; the actors that could (the others are dead)."""
    from ray.exceptions import RayActorError

    done = await asyncio.gather(*(_awaited(a.finish.remote(token)) for a in actors),
                                return_exceptions=True)
    return [a for a, res in zip(actors, done, strict=True)
            if not isinstance(res, RayActorError)]


async def _awaited(ref: Any) -> Any:
    return await ref

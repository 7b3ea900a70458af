"""Worker processes on this machine: `forgekit eval ... --workers N` (see
`forgekit.evals.executors` for what every executor promises).

A worker sends its records to the parent in batches (`_Outbox`: up to `BATCH` records
or `BATCH_S` seconds, whichever comes first) — one pickle and one pipe write per batch
instead of per sample — each with its gateway's adaptive concurrency limits, and ends
with a summary (samples the budget left unstarted, why it stopped, the final limits).
A worker killed before sending a batch loses only those records: their samples run
again in a fresh worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from forgekit.core.errors import ConfigError
from forgekit.evals.executors import (
    OnRecord,
    build_worker_runner,
    merge_limits,
    run_items,
    worker_payload,
)
from forgekit.evals.sample_result import SampleLine, SampleResult

if TYPE_CHECKING:
    from forgekit.evals.runner import Runner

log = logging.getLogger(__name__)


BATCH = 256  # records per message at most
BATCH_S = 0.05  # and no record waits longer than this for its message


class _Outbox:
    """A worker's records on their way to the parent, sent in batches."""

    def __init__(self, conn: Any, limits: Callable[[], dict[str, Any]]) -> None:
        self.conn = conn
        self.limits = limits
        self.batch: list[SampleLine] = []
        self.timer: asyncio.TimerHandle | None = None

    def add(self, rec: SampleResult | SampleLine) -> None:
        # its line is made here, in the worker: the parent writes it as it comes
        self.batch.append(rec if isinstance(rec, SampleLine) else SampleLine.of(rec))
        if len(self.batch) >= BATCH:
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(BATCH_S, self.flush)

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.batch:
            batch, self.batch = self.batch, []
            self.conn.send(("records", batch, self.limits()))


def _worker_main(payload: bytes, items: list[int], conn: Any, slot: int) -> None:
    """A worker process: run the items, send their records in batches, then a summary."""
    import gc

    async def main() -> None:
        runner = build_worker_runner(payload, slot)
        outbox = _Outbox(conn, runner.gateway.concurrency)
        try:
            gc.freeze()
            await run_items(runner, items, outbox.add)
            outbox.flush()
            # the parent goes on at once (merging the results table) while this process
            # closes its gateway and exits
            conn.send(("end", {"not_run": runner.not_run, "stopped": runner.stopped,
                               "limits": runner.gateway.concurrency()}))
        finally:
            await runner.gateway.aclose()
            if runner.budget is not None:
                runner.budget.close()

    try:
        asyncio.run(main())
    finally:
        conn.close()


class ProcessExecutor:
    """Samples sharded across `workers` processes on this machine. On Linux they are
    forked (nothing to import again: a worker starts in milliseconds, where a spawned
    one pays ~1.5 s of CPU for its imports); each builds a fresh gateway and event loop
    from the pickled payload, so nothing of the parent's loop, sessions or threads is
    used. Elsewhere they are spawned.

    Args:
        workers: the number of processes.
        max_restarts: how often a dead worker's unfinished samples are given to a fresh
            worker before the evaluation fails.
    """

    def __init__(self, workers: int = 2, *, max_restarts: int = 3) -> None:
        if workers < 1:
            raise ConfigError(f"workers must be at least 1, got {workers}", key="workers")
        self.workers = workers
        self.max_restarts = max_restarts
        self.processes: list[Any] = []  # live worker processes (tests kill one)
        self.restarts = 0
        self.budget_slots = workers  # the runner shares its budget with this many
        self.limits: dict[int, dict[str, dict[str, Any]]] = {}  # worker -> alias -> AIMD
        self._exiting: list[Any] = []  # finished workers not yet joined (see `finish`)

    async def finish(self) -> None:
        """Wait for the workers that finished to exit (the runner calls it after the
        results table is written: a worker's exit — closing its gateway, the kernel
        tearing down a forked process's memory, ~30-100 ms — overlaps the merge instead
        of preceding it). One that does not exit within 30 s is killed."""
        exiting, self._exiting = self._exiting, []
        if not exiting:
            return

        def join(proc: Any) -> None:
            proc.join(30)
            if proc.is_alive():
                proc.kill()
                proc.join()

        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, join, p) for p in exiting))
        for proc in exiting:
            with contextlib.suppress(ValueError):
                self.processes.remove(proc)

    def concurrency(self) -> dict[str, dict[str, Any]]:
        """The workers' adaptive limits per alias (see `executors.merge_limits`)."""
        return merge_limits(self.limits)

    async def execute(self, runner: Runner, items: list[int], on_record: OnRecord) -> None:
        import multiprocessing as mp

        if not items:
            return
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        ctx = mp.get_context(method)
        payload = worker_payload(runner, self.workers, shared_budget=True)
        key_of = _key_function(runner)
        shards = [items[w :: self.workers] for w in range(self.workers)]
        # a worker's slot: its row in the shared budget (0 is the parent's)
        pending = [(w + 1, s) for w, s in enumerate(shards) if s]
        loop = asyncio.get_running_loop()
        while pending:
            results = await asyncio.gather(
                *(self._one_worker(ctx, loop, payload, slot, shard, runner, on_record, key_of)
                  for slot, shard in pending)
            )
            pending = [(slot, left) for (slot, _), left in zip(pending, results, strict=True)
                       if left]
            if pending:
                self.restarts += 1
                if self.restarts > self.max_restarts:
                    missing = sum(len(p) for _, p in pending)
                    raise RuntimeError(
                        f"{missing} samples were left unfinished after {self.max_restarts} "
                        "worker restarts; see the worker errors above"
                    )
                log.warning(
                    "a worker process died; %d unfinished samples go to a fresh worker",
                    sum(len(p) for _, p in pending),
                )

    async def _one_worker(
        self, ctx: Any, loop: Any, payload: bytes, slot: int, shard: list[int], runner: Runner,
        on_record: OnRecord, key_of: Callable[[int], tuple],
    ) -> list[int]:
        """Run one worker on `shard`; returns the items it did not finish."""
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker_main, args=(payload, shard, send, slot), daemon=True)
        proc.start()
        send.close()
        self.processes.append(proc)
        left = {key_of(i): i for i in shard}
        done = loop.create_future()

        def readable() -> None:
            try:
                while recv.poll():
                    msg = recv.recv()
                    if msg[0] == "records":
                        for rec in msg[1]:
                            left.pop(rec.key, None)
                            on_record(rec)
                        self.limits[slot] = msg[2]
                        continue
                    summary = msg[1]  # "end": what it did not start was not for lack of life
                    left.clear()
                    runner.not_run += summary["not_run"]
                    runner.stopped = runner.stopped or summary["stopped"]
                    if summary["limits"]:
                        self.limits[slot] = summary["limits"]
                    _finish()
                    return
            except (EOFError, OSError):
                _finish()

        def _finish() -> None:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(recv.fileno())
            if not done.done():
                done.set_result(None)

        loop.add_reader(recv.fileno(), readable)
        finished = False  # it sent its end: `finish` joins it, after the merge
        try:
            await done
            finished = not left
            if not finished:  # it died: how?
                await loop.run_in_executor(None, proc.join)
        finally:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(recv.fileno())
            recv.close()
            if finished:
                self._exiting.append(proc)
            else:
                if proc.is_alive():
                    proc.kill()
                    proc.join()
                self.processes.remove(proc)
        if left:
            log.warning("worker pid %s exited with %s", proc.pid, proc.exitcode)
            budget: Any = getattr(runner, "budget", None)
            if callable(getattr(budget, "clear_slot", None)):
                budget.clear_slot(slot)  # its calls in flight will never settle
        return sorted(left.values())


def _key_function(runner: Runner) -> Callable[[int], tuple]:
    grid = runner.grid()

    def key(i: int) -> tuple:
        model, solver, _index, sample, epoch = grid[i]
        return (model, solver.name, sample.id, int(epoch))

    return key

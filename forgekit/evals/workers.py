"""Worker processes on this machine: `forgekit eval ... --workers N` (see
`forgekit.evals.executors` for what every executor promises).

Workers pull their samples: each asks the parent for a few more whenever it has little
more than its concurrency's worth left, and the parent hands out chunks that shrink as
the queue empties (`_chunk`), so the workers finish together even when one gets less CPU
than the other (with fixed shards, one idled for 0.1-0.4 s at the end of a 1,000-sample
run on a shared machine while the other finished its half alone). The queue interleaves
the models, so every model's samples run side by side as in one process.

A worker sends its records to the parent in batches (`_Outbox`: up to `BATCH` records,
~`BATCH_BYTES` of lines or `BATCH_S` seconds, whichever comes first) — one pickle and
one pipe write per batch instead of per sample — each with its gateway's adaptive
concurrency limits, and ends with a summary (samples the budget left unstarted, why it
stopped, the final limits). A worker killed before sending a batch loses only those
records: the samples it held go back to the queue, and a fresh worker takes its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from forgekit.core.errors import ConfigError
from forgekit.evals.executors import (
    OnRecord,
    build_worker_runner,
    merge_limits,
    worker_payload,
)
from forgekit.evals.sample_result import SampleLine, SampleResult

if TYPE_CHECKING:
    from forgekit.evals.runner import Runner

log = logging.getLogger(__name__)


BATCH = 256  # records per message at most
BATCH_BYTES = 256 * 1024  # and about this many bytes of lines (a record's is ~1 KB)
BATCH_S = 0.05  # and no record waits longer than this for its message
PIPE_BYTES = 1024 * 1024  # a pipe that holds several messages (Linux; default 64 KiB)


def _widen(conn: Any) -> None:
    """Let the pipe hold whole messages (Linux `F_SETPIPE_SZ`, up to the system's
    pipe-max-size, 1 MiB by default): with the default 64 KiB a batch of 256 records
    (~250 KB) trickles through in pieces, and the parent's read of it blocks its event
    loop until the worker is scheduled to write the rest (measured: ~2 ms a message on
    a busy machine, with the other worker's pipe filling up meanwhile)."""
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux, or above the system's limit
        pass


class _Outbox:
    """A worker's records on their way to the parent, sent in batches."""

    def __init__(self, conn: Any, limits: Callable[[], dict[str, Any]]) -> None:
        self.conn = conn
        self.limits = limits
        self.batch: list[SampleLine] = []
        self.size = 0  # bytes of lines in the batch
        self.timer: asyncio.TimerHandle | None = None

    def add(self, rec: SampleResult | SampleLine) -> None:
        # its line is made here, in the worker: the parent writes it as it comes
        line = rec if isinstance(rec, SampleLine) else SampleLine.of(rec)
        self.batch.append(line)
        self.size += len(line.line)
        if len(self.batch) >= BATCH or self.size >= BATCH_BYTES:
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(BATCH_S, self.flush)

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.batch:
            batch, self.batch, self.size = self.batch, [], 0
            self.conn.send(("records", batch, self.limits()))


def _chunk(remaining: int, workers: int, ask: int) -> int:
    """How many queued items a worker that asks for `ask` gets: what it asks for while
    much is left, then less and less (guided self-scheduling: a share of what remains),
    so that at the end no worker holds samples another could have run."""
    return max(1, min(ask, remaining // (2 * workers)))


async def pull_items(runner: Runner, work: Any, ask: Callable[[int], None], on_record: OnRecord,
                     *, models: int = 1) -> None:
    """Run the items the parent sends on `work` (lists of grid items; an empty one: no
    more), keeping about `runner.concurrency` per model in flight and a few more at hand:
    when what it holds drops to its concurrency, it asks for a quarter more (`ask(n)`)."""
    loop = asyncio.get_running_loop()
    live = runner.live_cls(total=0)
    grid = runner.grid()
    sems = {m: asyncio.Semaphore(runner.concurrency) for m in runner.suite.models}
    low = runner.concurrency * max(1, models)
    high = low + max(2, low // 4)
    held = 0  # items received and not finished
    state = {"asked": False, "last": False}
    tasks: set[asyncio.Task] = set()
    done: asyncio.Future = loop.create_future()

    async def one(i: int) -> None:
        async with sems[grid[i][0]]:
            rec = await runner.run_item(i, live)
        if rec is not None:
            live.update(rec)
            on_record(rec)

    def settle() -> None:
        if done.done():
            return
        if state["last"] and held == 0:
            done.set_result(None)
        elif held <= low and not state["asked"] and not state["last"]:
            state["asked"] = True
            ask(high - held)

    def finished(task: asyncio.Task) -> None:
        nonlocal held
        tasks.discard(task)
        held -= 1
        if not task.cancelled() and task.exception() is not None and not done.done():
            done.set_exception(task.exception())  # type: ignore[arg-type]
        settle()

    def readable() -> None:
        nonlocal held
        try:
            while work.poll():
                chunk = work.recv()
                state["asked"] = False
                if not chunk:
                    state["last"] = True
                for i in chunk:
                    held += 1
                    task = loop.create_task(one(i))
                    tasks.add(task)
                    task.add_done_callback(finished)
        except (EOFError, OSError) as e:  # the parent is gone
            if not done.done():
                done.set_exception(e)
            return
        settle()

    loop.add_reader(work.fileno(), readable)
    try:
        settle()
        await done
    finally:
        loop.remove_reader(work.fileno())
        for task in tasks:
            task.cancel()


def _worker_main(payload: bytes, work: Any, conn: Any, slot: int, models: int = 1) -> None:
    """A worker process: run the items the parent sends on `work`, send their records
    in batches, then a summary."""
    import gc

    async def main() -> None:
        runner = build_worker_runner(payload, slot)
        outbox = _Outbox(conn, runner.gateway.concurrency)
        try:
            gc.freeze()
            await pull_items(runner, work, conn.send, outbox.add, models=models)
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
        work.close()


class ProcessExecutor:
    """Samples run by `workers` processes on this machine, which pull them from one
    queue as they go (see the module docstring). On Linux they are
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
        grid = runner.grid()
        by_model: dict[str, list[int]] = {}
        for i in items:
            by_model.setdefault(grid[i][0], []).append(i)
        # the queue every worker pulls from: the models interleaved, so they run side by
        # side (each has its own concurrency) as in one process
        queue: deque[int] = deque(
            i for group in zip_longest_none(*by_model.values()) for i in group
        )
        loop = asyncio.get_running_loop()
        slots = range(1, min(self.workers, len(items)) + 1)  # 0 is the parent's budget row
        tasks = [asyncio.ensure_future(self._slot(ctx, loop, payload, slot, queue, runner,
                                                  on_record, key_of, len(by_model)))
                 for slot in slots]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _slot(
        self, ctx: Any, loop: Any, payload: bytes, slot: int, queue: deque[int],
        runner: Runner, on_record: OnRecord, key_of: Callable[[int], tuple], models: int,
    ) -> None:
        """Keep one worker running in `slot` until the queue is done: a worker that dies
        gives back what it held and a fresh one takes its place."""
        while True:
            left = await self._one_worker(ctx, loop, payload, slot, queue, runner, on_record,
                                          key_of, models)
            if not left:
                return
            queue.extendleft(reversed(left))  # first in line for every worker
            self.restarts += 1
            if self.restarts > self.max_restarts:
                raise RuntimeError(
                    f"{len(queue)} samples were left unfinished after {self.max_restarts} "
                    "worker restarts; see the worker errors above"
                )
            log.warning(
                "a worker process died; its %d unfinished samples go back to the queue and "
                "a fresh worker takes its place", len(left),
            )

    async def _one_worker(
        self, ctx: Any, loop: Any, payload: bytes, slot: int, queue: deque[int],
        runner: Runner, on_record: OnRecord, key_of: Callable[[int], tuple], models: int,
    ) -> list[int]:
        """Run one worker, handing it items from `queue` as it asks; returns the items
        it held and did not finish (when it died)."""
        recv, send = ctx.Pipe(duplex=False)
        _widen(recv)
        work_recv, work = ctx.Pipe(duplex=False)  # the parent's side: items to run
        proc = ctx.Process(target=_worker_main, args=(payload, work_recv, send, slot, models),
                           daemon=True)
        proc.start()
        send.close()
        work_recv.close()
        self.processes.append(proc)
        left: dict[tuple, int] = {}  # what it holds: handed out, no record yet
        done = loop.create_future()

        def readable() -> None:
            try:
                while recv.poll():
                    msg = recv.recv()
                    if isinstance(msg, int):  # it asks for that many more
                        chunk = [queue.popleft() for _ in
                                 range(min(len(queue), _chunk(len(queue), self.workers, msg)))]
                        for i in chunk:
                            left[key_of(i)] = i
                        work.send(chunk)  # [] when the queue is empty: no more
                        continue
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
            work.close()
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


def zip_longest_none(*groups: list[int]) -> Any:
    """Rows of `groups` side by side, shorter ones padded out (each row without pads)."""
    from itertools import zip_longest

    pad = object()
    for row in zip_longest(*groups, fillvalue=pad):
        yield [i for i in row if i is not pad]


def _key_function(runner: Runner) -> Callable[[int], tuple]:
    grid = runner.grid()

    def key(i: int) -> tuple:
        model, solver, _index, sample, epoch = grid[i]
        return (model, solver.name, sample.id, int(epoch))

    return key

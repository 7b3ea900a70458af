"""Worker processes on this machine: `forgekit eval ... --workers N` (see
`forgekit.evals.executors` for what every executor promises)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from forgekit.core.errors import ConfigError
from forgekit.evals.executors import OnRecord, build_worker_runner, run_items, worker_payload

log = logging.getLogger(__name__)


def _worker_main(payload: bytes, items: list[int], conn: Any) -> None:
    """A worker process: run the items, send each record, then None."""
    import gc

    async def main() -> None:
        runner = build_worker_runner(payload)
        try:
            gc.freeze()
            await run_items(runner, items, conn.send)
        finally:
            await runner.gateway.aclose()

    try:
        asyncio.run(main())
        conn.send(None)
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

    async def execute(self, runner: Any, items: list[int], on_record: OnRecord) -> None:
        import multiprocessing as mp

        if not items:
            return
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        ctx = mp.get_context(method)
        payload = worker_payload(runner, self.workers)
        key_of = _key_function(runner)
        shards = [items[w :: self.workers] for w in range(self.workers)]
        pending = [s for s in shards if s]
        loop = asyncio.get_running_loop()
        while pending:
            results = await asyncio.gather(
                *(self._one_worker(ctx, loop, payload, shard, on_record, key_of)
                  for shard in pending)
            )
            pending = [left for left in results if left]
            if pending:
                self.restarts += 1
                if self.restarts > self.max_restarts:
                    missing = sum(len(p) for p in pending)
                    raise RuntimeError(
                        f"{missing} samples were left unfinished after {self.max_restarts} "
                        "worker restarts; see the worker errors above"
                    )
                log.warning(
                    "a worker process died; %d unfinished samples go to a fresh worker",
                    sum(len(p) for p in pending),
                )

    async def _one_worker(
        self, ctx: Any, loop: Any, payload: bytes, shard: list[int], on_record: OnRecord,
        key_of: Callable[[int], tuple],
    ) -> list[int]:
        """Run one worker on `shard`; returns the items it did not finish."""
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker_main, args=(payload, shard, send), daemon=True)
        proc.start()
        send.close()
        self.processes.append(proc)
        left = {key_of(i): i for i in shard}
        done = loop.create_future()

        def readable() -> None:
            try:
                while recv.poll():
                    msg = recv.recv()
                    if msg is None:
                        _finish()
                        return
                    left.pop(_record_key(msg), None)
                    on_record(msg)
            except (EOFError, OSError):
                _finish()

        def _finish() -> None:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(recv.fileno())
            if not done.done():
                done.set_result(None)

        loop.add_reader(recv.fileno(), readable)
        try:
            await done
            await loop.run_in_executor(None, proc.join)
        finally:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(recv.fileno())
            recv.close()
            if proc.is_alive():
                proc.kill()
                proc.join()
            self.processes.remove(proc)
        if proc.exitcode not in (0, None) and left:
            log.warning("worker pid %s exited with %s", proc.pid, proc.exitcode)
        return sorted(left.values())


def _record_key(rec: dict[str, Any]) -> tuple:
    return (rec["model"], rec["solver"], rec["sample_id"], int(rec["epoch"]))


def _key_function(runner: Any) -> Callable[[int], tuple]:
    grid = runner.grid()

    def key(i: int) -> tuple:
        model, solver, _index, sample, epoch = grid[i]
        return (model, solver.name, sample.id, int(epoch))

    return key

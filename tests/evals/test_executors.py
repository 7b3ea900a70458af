"""Worker processes: the same results table as one process, one writer, and a worker
killed mid-run loses nothing (its unfinished samples go to a fresh worker). Real HTTP
to the stub server, real spawned processes."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

import pytest

from forgekit.core.config import AliasConfig, Price, ProjectConfig
from forgekit.evals import Suite, evaluate
from forgekit.evals.executor_choice import make_executor
from forgekit.evals.executors import LocalExecutor
from forgekit.evals.workers import ProcessExecutor
from forgekit.models import Gateway, ScriptedSource
from forgekit.models.stub_server import StubServer

COLUMNS = ["model", "solver", "sample_id", "epoch", "status", "answer", "score",
           "input_tokens", "output_tokens", "cost_usd", "model_calls"]


def _setup(tmp_path, url, n=24):
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(
        json.dumps({"id": f"s{i}", "input": f"q{i}", "target": f"stub: q{i}" if i % 3 else "x"})
        + "\n" for i in range(n)
    ))
    cfg = ProjectConfig(root=tmp_path)
    cfg.models.aliases["stub"] = AliasConfig(  # priced: no litellm import in the workers
        model="openai/stub", api_base=url, max_retries=1,
        price=Price(input_per_1k=0.5, output_per_1k=1.0),
    )
    cfg.models.default = "stub"
    cfg.cache.enabled = False
    suite = Suite(name="w", taskset={"path": str(tasks)}, models=["stub"],
                  solvers=[{"name": "p", "template": "{input}"}], scorers=["exact"],
                  concurrency=2)
    return cfg, suite


def test_make_executor_reads_the_cli_words():
    assert isinstance(make_executor(None), LocalExecutor)
    assert make_executor(None, workers=3).workers == 3
    with pytest.raises(Exception, match="unknown executor"):
        make_executor("threads")


def test_workers_give_the_same_table_and_survive_a_killed_worker(tmp_path):
    with StubServer(latency_ms=150) as stub:
        cfg, suite = _setup(tmp_path, stub.url)
        one = evaluate(suite, Gateway(cfg), out_dir=tmp_path / "one", progress=False)

        executor = ProcessExecutor(2)
        out = tmp_path / "two"
        box: dict = {}

        def run() -> None:
            try:
                box["res"] = evaluate(suite, Gateway(cfg), out_dir=out, progress=False,
                                      executor=executor)
            except BaseException as e:  # reported below
                box["err"] = e

        t = threading.Thread(target=run)
        t.start()
        log = out / "results.jsonl"
        deadline = time.monotonic() + 120
        while not (log.exists() and len(log.read_text().splitlines()) >= 4):
            assert time.monotonic() < deadline and t.is_alive(), box
            time.sleep(0.05)
        victim = executor.processes[0]
        os.kill(victim.pid, signal.SIGKILL)
        t.join(180)
        assert "err" not in box, box.get("err")
        two = box["res"]
    assert executor.restarts >= 1
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    keys = [(r["sample_id"], r["epoch"]) for r in lines]
    assert len(keys) == len(set(keys)) == 24  # one writer, each sample once
    assert two.df.select(COLUMNS).sort("sample_id").equals(
        one.df.select(COLUMNS).sort("sample_id")
    )
    assert two.df["status"].unique().to_list() == ["completed"]
    assert len(list((out / "runs").rglob("*.jsonl"))) >= 24  # workers wrote trajectories


def test_a_gateway_that_cannot_travel_is_a_clear_error(tmp_path):
    cfg, suite = _setup(tmp_path, "http://127.0.0.1:9/v1", n=2)
    gw = Gateway(cfg, source=ScriptedSource(lambda req: "x"))  # a lambda does not pickle
    with pytest.raises(Exception, match="cannot be pickled"):
        evaluate(suite, gw, out_dir=tmp_path / "o", progress=False, workers=2)


class Overloaded:
    """Every fifth call is a 429 with a short Retry-After; picklable for the workers."""

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, request):
        import asyncio

        from forgekit.core.messages import ModelResponse, Usage
        from forgekit.models.direct import HTTPStatusError

        self.calls += 1
        await asyncio.sleep(0.005)
        if self.calls % 5 == 0:
            raise HTTPStatusError(429, "slow down", retry_after_s=0.01)
        return ModelResponse(text="0", usage=Usage(input_tokens=1, output_tokens=1))


def test_each_workers_adaptive_limit_is_recorded(config, write_suite, tmp_path):
    alias = config.models.aliases["m1"]
    alias.concurrency, alias.max_concurrency, alias.max_retries = 4, 8, 5
    suite = write_suite(
        concurrency=16,
        samples=[{"id": f"s{i:03d}", "input": "x", "target": "0"} for i in range(80)],
    )
    res = evaluate(suite, Gateway(config, source=Overloaded()), out_dir=tmp_path / "o",
                   progress=False, workers=2)
    assert res.df["status"].unique().to_list() == ["completed"]  # a 429 fails no sample
    snap = res.meta["concurrency"]["m1"]
    workers = snap["workers"]
    assert sorted(w["worker"] for w in workers) == [1, 2]
    # each worker adapted its own part of the alias's limits: together they keep them
    assert [w["ceiling"] for w in workers] == [4, 4] and snap["ceiling"] == 8
    assert [w["start"] for w in workers] == [2, 2] and snap["start"] == 4
    # (workers pull their samples: one that started late may have met no 429 at all)
    assert snap["cuts"] >= 1 and all(w["low"] <= w["start"] for w in workers)
    assert snap["cuts"] == sum(w["cuts"] for w in workers)
    assert snap["high"] == sum(w["high"] for w in workers) <= 8


def test_finished_workers_exit_while_the_table_is_merged(config, write_suite, tmp_path):
    """A worker sends its end before it closes its gateway and exits; the parent merges
    the table meanwhile and joins every worker before `evaluate` returns."""
    suite = write_suite(
        concurrency=4, samples=[{"id": f"s{i:02d}", "input": "x", "target": "0"} for i in range(20)]
    )
    executor = ProcessExecutor(2)
    joined: list = []
    finish = executor.finish

    async def spy() -> None:
        joined.extend(executor._exiting)
        assert (tmp_path / "o" / "results.parquet").exists()  # merged before the joins
        await finish()

    executor.finish = spy  # type: ignore[method-assign]
    config.models.aliases["m1"].max_retries = 5
    res = evaluate(suite, Gateway(config, source=Overloaded()), out_dir=tmp_path / "o",
                   progress=False, executor=executor)
    assert res.df.height == 20 and res.df["status"].unique().to_list() == ["completed"]
    assert len(joined) == 2 and [p.exitcode for p in joined] == [0, 0]
    assert executor.processes == [] and executor._exiting == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="F_SETPIPE_SZ is Linux's")
def test_a_batch_fits_the_pipe_in_one_write():
    """Records go in batches of at most BATCH records or ~BATCH_BYTES of lines, through a
    pipe widened to hold several (Linux), so neither side waits on the other mid-message."""
    import asyncio
    import fcntl
    import multiprocessing as mp

    from forgekit.evals import workers as w
    from forgekit.evals.sample_result import SampleResult

    recv, send = mp.Pipe(duplex=False)
    w._widen(recv)
    assert fcntl.fcntl(recv.fileno(), fcntl.F_GETPIPE_SZ) >= w.BATCH_BYTES * 2
    big = SampleResult(model="m", solver="s", sample_id="x", status="completed",
                       answer="a" * 4000)

    async def run() -> None:
        box = w._Outbox(send, lambda: {})
        for i in range(100):
            box.add(big.model_copy(update={"sample_id": f"s{i}"}))
        box.flush()

    asyncio.run(run())
    sizes = []
    while recv.poll():
        kind, batch, _limits = recv.recv()
        sizes.append(sum(len(r.line) for r in batch))
    assert len(sizes) >= 2 and max(sizes) < w.BATCH_BYTES + 5000  # split by bytes
    send.close()
    recv.close()


class SlowInOneProcess:
    """Answers with its process id; the first worker process to call it is 50x slower."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.slow: bool | None = None

    async def complete(self, request):
        import asyncio

        from forgekit.core.messages import ModelResponse, Usage

        if self.slow is None:
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
                self.slow = True
            except FileExistsError:
                self.slow = False
        await asyncio.sleep(0.1 if self.slow else 0.002)
        return ModelResponse(text=str(os.getpid()), usage=Usage(input_tokens=1, output_tokens=1))


def test_workers_pull_work_so_a_slow_one_does_less(config, write_suite, tmp_path):
    """Samples are pulled, not sharded: a worker that is much slower runs a small part of
    them, and both end together; every sample still runs once."""
    suite = write_suite(
        concurrency=2,
        samples=[{"id": f"s{i:02d}", "input": "x", "target": "0"} for i in range(80)],
    )
    res = evaluate(suite, Gateway(config, source=SlowInOneProcess(str(tmp_path / "slow"))),
                   out_dir=tmp_path / "o", progress=False, workers=2)
    assert res.df.height == 80 and res.df["sample_id"].n_unique() == 80
    counts = sorted(res.df["answer"].value_counts()["count"].to_list())
    # static shards: 40 each; pulled, ~5-15 (more when a busy machine adds to both)
    assert len(counts) == 2 and counts[0] <= 28 and counts[1] >= 52


def test_chunks_shrink_as_the_queue_empties_and_models_interleave():
    from forgekit.evals.workers import _chunk, zip_longest_none

    assert _chunk(1000, 2, 40) == 40 and _chunk(100, 2, 40) == 25 and _chunk(3, 2, 40) == 1
    assert list(zip_longest_none([1, 2, 3], [10])) == [[1, 10], [2], [3]]

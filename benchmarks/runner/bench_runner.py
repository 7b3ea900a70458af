"""Runner benchmark: 2,000 samples at concurrency 64 against a local OpenAI-compatible
stub with a fixed 50 ms latency.

Measured in one process, against the same stub server (a separate process):
  1. ideal      = concurrency / latency (1,280 calls/s at 64 and 50 ms)
  2. bare       = `litellm.acompletion` + `asyncio.gather` (semaphore of 64), on a model
                  litellm's price map lacks (as every local endpoint is); and the same
                  set up as `evaluate()` sets litellm up (model priced, `gc.freeze()`):
                  like for like
  3. raw aiohttp = one aiohttp session + gather, JSON in and out: the client ceiling
  4. forgekit   = `forgekit.evals.evaluate` on a suite of N samples (prompt solver,
                  exact scorer, per-sample trajectory, results log, resume bookkeeping),
                  through the lean direct source (the default for an OpenAI-compatible
                  alias with an api_base) and through litellm (`transport: litellm`)
  4. inspect    = Inspect AI `eval()` on the same samples, in a separate venv given by
                  --inspect-python (inspect-ai needs openai>=3.4; forgekit's litellm pin
                  keeps openai 2.x), timed inside that process after a warm-up

Run:  .venv/bin/python benchmarks/runner/bench_runner.py [--n 2000] [--concurrency 64]
          [--inspect-python /tmp/inspect-venv/bin/python]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ["BENCH_STUB_KEY"] = "sk-bench"  # the stub ignores it; litellm wants one


def start_stub(latency_ms: float):
    """The stub server as a process (forgekit.core.processes.ManagedServer) and its url."""
    from forgekit.models.stub_server import spawn_stub

    stub = spawn_stub(latency_ms=latency_ms)
    return stub, stub.url


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (worker processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn):
    c0, t0 = _cpu(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, _cpu() - c0


def bare_litellm(url: str, n: int, concurrency: int, model: str = "openai/bare") -> None:
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True

    async def run() -> None:
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int) -> str:
            async with sem:
                r = await litellm.acompletion(
                    model=model,
                    api_base=url,
                    api_key="sk-bench",
                    messages=[{"role": "user", "content": f"what is {i} + {i}?"}],
                    max_tokens=16,
                    num_retries=0,
                )
                return r.choices[0].message.content

        out = await asyncio.gather(*(one(i) for i in range(n)))
        assert len(out) == n

    asyncio.run(run())


def bare_litellm_like_evaluate(url: str, n: int, concurrency: int) -> None:
    """The bare loop with the two things `evaluate()` sets up around litellm: the model's
    price given to litellm (`tell_litellm_price`, so its per-response pricing finds the
    model) and `gc.freeze()` for the run. Read against this row, the ratio is the cost of
    forgekit's own bookkeeping alone."""
    import gc

    from forgekit.core.config import AliasConfig
    from forgekit.models.pricing import tell_litellm_price

    tell_litellm_price(AliasConfig(model="openai/bare-priced"))
    gc.freeze()
    try:
        bare_litellm(url, n, concurrency, model="openai/bare-priced")
    finally:
        gc.unfreeze()


def raw_aiohttp(url: str, n: int, concurrency: int) -> None:
    """The ceiling of any Python client: aiohttp, JSON in and out, nothing else."""
    import aiohttp

    async def run() -> None:
        sem = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

            async def one(i: int) -> str:
                body = {
                    "model": "raw",
                    "messages": [{"role": "user", "content": f"what is {i} + {i}?"}],
                    "max_tokens": 16,
                }
                async with sem, session.post(url + "/chat/completions", json=body) as resp:
                    data = json.loads(await resp.read())
                    return data["choices"][0]["message"]["content"]

            out = await asyncio.gather(*(one(i) for i in range(n)))
            assert len(out) == n

    asyncio.run(run())


def write_tasks(tmp: Path, n: int) -> Path:
    path = tmp / "tasks.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"s{i}", "input": f"what is {i} + {i}?", "target": str(2 * i)}) + "\n"
            for i in range(n)
        )
    )
    return path


def forgekit_runner(
    url: str, tasks: Path, n: int, concurrency: int, out: Path, transport: str = "auto",
    workers: int = 1, executor: str | None = None,
) -> None:
    from forgekit.core.config import AliasConfig, load_config
    from forgekit.evals import Suite, evaluate
    from forgekit.models import Gateway

    cfg = load_config(env={"FORGEKIT_HOME": str(out.parent)})
    cfg.cache.enabled = False
    cfg.tracking.enabled = False
    cfg.models.aliases["stub"] = AliasConfig(
        model="openai/stub",
        api_base=url,
        api_key_env="BENCH_STUB_KEY",
        max_retries=0,
        concurrency=concurrency,
        params={"max_tokens": 16},
        transport=transport,
    )
    suite = Suite(
        name="bench",
        taskset={"path": str(tasks)},
        models=["stub"],
        solvers=[{"name": "prompt", "template": "{input}"}],
        scorers=["exact"],
        concurrency=concurrency,
    )
    res = evaluate(suite, Gateway(cfg), out_dir=out, progress=False, workers=workers,
                   executor=executor)
    bad = res.df.filter(res.df["status"] != "completed")
    assert res.df.height == n and bad.height == 0, bad["error"].head(3).to_list()


def inspect_runner(python: str, url: str, n: int, concurrency: int) -> tuple[float, float]:
    """Inspect AI on the same workload, in `python` (an environment where it works)."""
    script = Path(__file__).with_name("inspect_workload.py")
    r = subprocess.run(
        [python, str(script), url, str(n), str(concurrency)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if not out["ok"]:
        raise RuntimeError("inspect run did not complete every sample")
    return out["wall"], out["cpu"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="alternate bare/forgekit this many times; report each one's best",
    )
    ap.add_argument(
        "--ray", action="store_true", help="add the Ray executor row (2 local actors)"
    )
    ap.add_argument(
        "--inspect-python",
        default=None,
        help="python of a venv with inspect-ai (and openai>=3.4) to compare with",
    )
    args = ap.parse_args()
    n, conc = args.n, args.concurrency
    ideal = conc / (args.latency_ms / 1000)
    stub, url = start_stub(args.latency_ms)
    rows: dict[str, tuple[float, float]] = {}
    walls: dict[str, list[float]] = {}  # per round, for the per-round ratios
    try:
        # warm-up: imports and the first connection are not what we measure
        bare_litellm(url, 64, conc)
        raw_aiohttp(url, 64, conc)
        tmp = Path(tempfile.mkdtemp(prefix="bench-runner-"))
        (tmp / "warm").mkdir()
        warm_tasks = write_tasks(tmp / "warm", 64)
        forgekit_runner(url, warm_tasks, 64, conc, tmp / "warm" / "out")
        forgekit_runner(url, warm_tasks, 64, conc, tmp / "warm" / "out2", "litellm")
        tasks = write_tasks(tmp, n)
        for r in range(args.rounds):  # alternate, so a noisy neighbour hits both alike
            for name, fn in [
                ("bare litellm.acompletion + gather", lambda: bare_litellm(url, n, conc)),
                (
                    "  same, set up like evaluate()",
                    lambda: bare_litellm_like_evaluate(url, n, conc),
                ),
                (
                    "forgekit evaluate() via litellm",
                    lambda r=r: forgekit_runner(
                        url, tasks, n, conc, tmp / f"litellm{r}", "litellm"
                    ),
                ),
                ("raw aiohttp + gather (ceiling)", lambda: raw_aiohttp(url, n, conc)),
                (
                    "forgekit evaluate() lean source",
                    lambda r=r: forgekit_runner(url, tasks, n, conc, tmp / f"run{r}"),
                ),
                (
                    "forgekit lean, --workers 2",
                    lambda r=r: forgekit_runner(url, tasks, n, conc, tmp / f"w2-{r}", workers=2),
                ),
            ] + ([(
                "forgekit lean, ray 2 actors",
                lambda r=r: forgekit_runner(
                    url, tasks, n, conc, tmp / f"ray{r}", workers=2, executor="ray"
                ),
            )] if args.ray else []):
                _, wall, cpu = timed(fn)
                print(f"round {r}: {name}: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
                walls.setdefault(name, []).append(wall)
                if name not in rows or wall < rows[name][0]:
                    rows[name] = (wall, cpu)
        if args.inspect_python:
            try:
                rows["inspect-ai eval()"] = inspect_runner(args.inspect_python, url, n, conc)
            except Exception as e:  # report, do not crash the benchmark
                print(f"inspect-ai: {type(e).__name__}: {e}")
    finally:
        stub.stop(10)
    bare = n / rows["bare litellm.acompletion + gather"][0]
    print(
        f"\n{n} samples, concurrency {conc}, stub latency {args.latency_ms:g} ms, "
        f"ideal {ideal:.0f} samples/s, {os.cpu_count()} CPUs"
    )
    print(f"{'':38}{'wall s':>8}{'samples/s':>11}{'x ideal':>9}{'x bare':>8}{'CPU ms/sample':>15}")
    for name, (wall, cpu) in rows.items():
        rate = n / wall
        print(
            f"{name:38}{wall:>8.2f}{rate:>11.0f}{rate / ideal:>9.2f}{rate / bare:>8.2f}"
            f"{cpu / n * 1000:>15.2f}"
        )
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    lean = walls.get("forgekit evaluate() lean source")
    for name in ("forgekit lean, --workers 2", "forgekit lean, ray 2 actors"):
        if lean and name in walls:
            ratios = sorted(a / b for a, b in zip(lean, walls[name], strict=True))
            print(f"{name} x lean single process per round: "
                  + ", ".join(f"{x:.2f}" for x in ratios))
    base = walls["bare litellm.acompletion + gather"]
    for name, ws in walls.items():
        if name.startswith("forgekit"):
            ratios = sorted(b / w for b, w in zip(base, ws, strict=True))
            med = ratios[len(ratios) // 2]
            print(
                f"\n{name} x bare litellm per round: "
                + ", ".join(f"{x:.2f}" for x in ratios)
                + f" (median {med:.2f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

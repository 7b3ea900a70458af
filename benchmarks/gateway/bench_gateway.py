"""Gateway overhead benchmark: forgekit Gateway vs bare `litellm.acompletion`, same run.

1. N calls at concurrency C against the stub OpenAI-compatible server (a separate
   process, fixed latency) through (a) bare litellm.acompletion, (b) the gateway with
   cache off and no budget, (c) the gateway with a budget and the on-disk cache (all
   misses: every prompt is new), alternated over several rounds. Reports throughput,
   the gateway/bare ratio and the CPU time per call of this process.
2. The embedded model's generation speed: tokens/s through the gateway (llama.cpp server
   over HTTP) vs llama_cpp.Llama in-process, same prompts, greedy, same max_tokens.

Run:  .venv/bin/python benchmarks/gateway/bench_gateway.py [--n 1000] [--concurrency 64]
      [--latency-ms 50] [--rounds 3] [--skip-local] [--out results.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
KEY = "sk-bench-not-a-real-key-0000000000"


def start_stub(latency_ms: float):
    """The stub server as a process (forgekit.core.processes.ManagedServer) and its url."""
    from forgekit.models.stub_server import spawn_stub

    stub = spawn_stub(latency_ms=latency_ms, reply="four")
    return stub, stub.url


async def drive(call, n: int, concurrency: int) -> tuple[float, float]:
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            await call(i)

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - t0, time.process_time() - cpu0


def overhead(args: argparse.Namespace) -> dict[str, Any]:
    import litellm

    from forgekit.core.config import AliasConfig, ProjectConfig
    from forgekit.models import Budget, Gateway

    litellm.suppress_debug_info = True
    proc, url = start_stub(args.latency_ms)
    root = Path(tempfile.mkdtemp(prefix="fk-bench-"))
    os.environ["FK_BENCH_KEY"] = KEY
    cfg = ProjectConfig(root=root)
    cfg.models.aliases["stub"] = AliasConfig(
        model="openai/stub", api_base=url, api_key_env="FK_BENCH_KEY", max_retries=0
    )
    cfg.models.default = "stub"
    cfg.cache.dir = str(root / "cache")
    plain = Gateway(cfg, cache=False)
    full = Gateway(cfg, cache=True)
    results: dict[str, list[tuple[float, float]]] = {
        "bare": [],
        "gateway": [],
        "gateway+cache+budget": [],
    }
    run_id = [0]

    async def main() -> None:
        async def bare(i: int) -> None:
            r = await litellm.acompletion(
                model="openai/stub",
                api_base=url,
                api_key=KEY,
                num_retries=0,
                messages=[{"role": "user", "content": f"q{run_id[0]}-{i}: what is 2+2?"}],
            )
            assert r.choices[0].message.content == "four"

        async def gw(i: int) -> None:
            r = await plain.acomplete(f"q{run_id[0]}-{i}: what is 2+2?")
            assert r.text == "four"

        budget = Budget(max_usd=100.0, max_tokens=10**9)

        async def gw_full(i: int) -> None:
            # same request body as the other variants (runs 2-4 also sent max_tokens=8 here)
            r = await full.acomplete(f"q{run_id[0]}-{i}: what is 2+2?", budget=budget)
            assert r.text == "four" and not r.cached

        calls = {"bare": bare, "gateway": gw, "gateway+cache+budget": gw_full}
        # warm-up: imports, connection pools, litellm's lazy paths
        for fn in calls.values():
            run_id[0] += 1
            await drive(fn, 100, args.concurrency)
        for _ in range(args.rounds):
            for name, fn in calls.items():
                run_id[0] += 1
                results[name].append(await drive(fn, args.n, args.concurrency))

    try:
        asyncio.run(main())
    finally:
        proc.stop(10)
    out: dict[str, Any] = {
        "n": args.n,
        "concurrency": args.concurrency,
        "latency_ms": args.latency_ms,
        "rounds": args.rounds,
    }
    for name, runs in results.items():
        thr = [args.n / wall for wall, _ in runs]
        cpu = [c / args.n * 1000 for _, c in runs]
        out[name] = {
            "calls_per_s_median": statistics.median(thr),
            "calls_per_s": thr,
            "cpu_ms_per_call_median": statistics.median(cpu),
        }
    bare_t = out["bare"]["calls_per_s_median"]
    bare_c = out["bare"]["cpu_ms_per_call_median"]
    for name in ("gateway", "gateway+cache+budget"):
        out[name]["ratio_vs_bare"] = out[name]["calls_per_s_median"] / bare_t
        out[name]["cpu_overhead_ms_per_call"] = out[name]["cpu_ms_per_call_median"] - bare_c
        # per-round ratio (each round ran bare and gateway back to back)
        out[name]["ratio_median_of_rounds"] = statistics.median(
            g / b for g, b in zip(out[name]["calls_per_s"], out["bare"]["calls_per_s"], strict=True)
        )
        out[name]["ratio_per_round"] = [
            g / b for g, b in zip(out[name]["calls_per_s"], out["bare"]["calls_per_s"], strict=True)
        ]
    return out


def own_overhead(n: int = 5000) -> dict[str, Any]:
    """The gateway's own CPU per call, with a no-op source (no HTTP, no litellm): the part
    of the cost that forgekit adds, measured without the noise of a loaded machine."""
    from forgekit.core.config import AliasConfig, ProjectConfig
    from forgekit.core.messages import ModelResponse, Usage
    from forgekit.models import Budget, Gateway

    class NoOp:
        needs_endpoint = True  # behave like the real source: cache on, exact budgets

        async def complete(self, request: Any) -> ModelResponse:
            return ModelResponse(text="four", usage=Usage(input_tokens=5, output_tokens=1))

    root = Path(tempfile.mkdtemp(prefix="fk-bench-own-"))
    cfg = ProjectConfig(root=root)
    cfg.models.aliases["stub"] = AliasConfig(model="openai/stub", api_base="http://127.0.0.1:9/v1")
    cfg.models.default = "stub"
    cfg.cache.dir = str(root / "cache")
    out: dict[str, Any] = {"n": n}
    for name, cache, budget in [
        ("gateway", False, None),
        ("gateway+budget", False, Budget(max_usd=100, max_tokens=10**9)),
        ("gateway+cache(miss+write)+budget", True, Budget(max_usd=100, max_tokens=10**9)),
    ]:
        gw = Gateway(cfg, source=NoOp(), cache=cache)

        async def run(gw: Gateway = gw, budget: Any = budget, tag: str = name) -> float:
            for i in range(100):
                await gw.acomplete(f"warm {tag} {i}", budget=budget, max_tokens=8)
            cpu0 = time.process_time()
            for i in range(n):
                await gw.acomplete(f"q {tag} {i}: what is 2+2?", budget=budget, max_tokens=8)
            return (time.process_time() - cpu0) / n * 1e6

        out[f"{name}_us_per_call"] = asyncio.run(run())
    return out


PROMPTS = [
    "Write a short poem about the sea.",
    "Explain what a CPU does.",
    "List three fruits and describe each.",
    "Tell me a story about a cat.",
    "Describe the city of Paris.",
]


def local_speed(args: argparse.Namespace) -> dict[str, Any]:
    from forgekit.core.config import load_config
    from forgekit.models import Gateway
    from forgekit.models.local_server import default_model_path

    root = Path(tempfile.mkdtemp(prefix="fk-bench-local-"))
    cfg = load_config(env={"FORGEKIT_HOME": str(root)})
    cfg.root = root
    mt = args.max_tokens
    out: dict[str, Any] = {"max_tokens": mt, "prompts": len(PROMPTS)}
    with Gateway(cfg, cache=False) as gw:
        gw.complete("warm up", model="local", max_tokens=4)
        tokens, t0 = 0, time.perf_counter()
        for p in PROMPTS:
            tokens += gw.complete(p, model="local", max_tokens=mt).usage.output_tokens
        wall = time.perf_counter() - t0
        out["gateway"] = {"tokens": tokens, "seconds": wall, "tokens_per_s": tokens / wall}
    from llama_cpp import Llama

    llm = Llama(
        model_path=str(default_model_path()),
        n_ctx=cfg.models.local_server.n_ctx,
        chat_format=cfg.models.local_server.chat_format,
        verbose=False,
    )
    llm.create_chat_completion([{"role": "user", "content": "warm up"}], max_tokens=4)
    tokens, t0 = 0, time.perf_counter()
    for p in PROMPTS:
        r = llm.create_chat_completion(
            [{"role": "user", "content": p}], max_tokens=mt, temperature=0.0
        )
        tokens += r["usage"]["completion_tokens"]
    wall = time.perf_counter() - t0
    out["in_process"] = {"tokens": tokens, "seconds": wall, "tokens_per_s": tokens / wall}
    out["ratio_gateway_vs_in_process"] = (
        out["gateway"]["tokens_per_s"] / out["in_process"]["tokens_per_s"]
    )
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--latency-ms", type=float, default=50.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--skip-local", action="store_true")
    p.add_argument("--skip-overhead", action="store_true")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    result: dict[str, Any] = {"cpus": os.cpu_count()}
    if not args.skip_overhead:
        result["own_overhead"] = own_overhead()
        result["overhead"] = overhead(args)
    if not args.skip_local:
        result["local_model"] = local_speed(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Runner benchmark: 2,000 samples at concurrency 64 against a local OpenAI-compatible
stub with a fixed 50 ms latency.

Measured in one process, against the same stub server (a separate process):
  1. ideal      = concurrency / latency (1,280 calls/s at 64 and 50 ms)
  2. bare       = `litellm.acompletion` + `asyncio.gather` (semaphore of 64), on a model
                  litellm's price map lacks (as every local endpoint is); and the same
                  set up as `evaluate()` sets litellm up (model priced, `gc.freeze()`):
                  like for like
  3. raw aiohttp = one aiohttp session + gather, JSON in and out; and the same loop over
                  forgekit's own HTTP/1.1 client (`raw-fk`, the lean source's transport)
  4. forgekit   = `forgekit.evals.evaluate` on a suite of N samples (prompt solver,
                  exact scorer, per-sample trajectory, results log, resume bookkeeping),
                  through the lean direct source (the default for an OpenAI-compatible
                  alias with an api_base) and through litellm (`transport: litellm`)
  4. inspect    = Inspect AI `eval()` on the same samples, in a separate venv given by
                  --inspect-python (inspect-ai needs openai>=3.4; forgekit's litellm pin
                  keeps openai 2.x), timed inside that process after a warm-up

  5. workers    = the lean `evaluate()` with `--workers 2` (and `--ray`: on 2 Ray actors of
                  a local Ray started before the rounds, the actors started by a warm-up
                  evaluation and kept, as forgekit keeps them, for the rows)

Every row reports CPU per sample of this process and of its worker processes (and of
the Ray actors), the stub server's CPU per request, and the load average when it ended;
rows alternate round by round, and the per-round ratios are printed.

Run:  .venv/bin/python benchmarks/runner/bench_runner.py [--n 2000] [--concurrency 64]
          [--rows lean,workers2] [--ray] [--inspect-python /tmp/inspect-venv/bin/python]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ["BENCH_STUB_KEY"] = "sk-bench"  # the stub ignores it; litellm wants one


def start_stub(latency_ms: float):
    """The stub server as a process (forgekit.core.processes.ManagedServer) and its url."""
    from forgekit.models.stub_server import spawn_stub

    stub = spawn_stub(latency_ms=latency_ms)
    return stub, stub.url


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process, and of its finished children (worker processes)."""
    t = os.times()
    return t.user + t.system, t.children_user + t.children_system


def _pid_cpu(pid: int) -> float:
    """CPU seconds of a running process (the stub server)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ray_cpu() -> dict[int, float]:
    """CPU seconds of each Ray actor process alive now (`ray::EvalActor`), by pid."""
    import psutil

    out: dict[int, float] = {}
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if "EvalActor" in " ".join(proc.info["cmdline"] or [proc.info["name"] or ""]):
                t = proc.cpu_times()
                out[proc.pid] = t.user + t.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return out


def timed(fn, stub_pid: int | None = None, ray: bool = False) -> dict[str, float]:
    """Wall and CPU seconds of `fn()`: this process, its children, the stub server and
    (`ray`) the Ray actors: what each spent during the row (the actors outlive it: an
    evaluation leaves them idle for the next; one started during the row counts whole)."""
    (s0, k0), t0 = _cpu(), time.perf_counter()
    stub0 = _pid_cpu(stub_pid) if stub_pid else 0.0
    actors0 = _ray_cpu() if ray else {}
    w0 = time.time()
    out = fn()
    wall = time.perf_counter() - t0
    w1 = time.time()
    s1, k1 = _cpu()
    actors = sum(cpu - actors0.get(pid, 0.0) for pid, cpu in _ray_cpu().items()) if ray else 0.0
    latency = out["latency"] if isinstance(out, dict) else None
    phases = {}
    if isinstance(out, dict):  # where the wall time went (from the records' own clocks)
        phases = {"setup": out["first_start"] - w0, "samples": out["last_end"] - out["first_start"],
                  "tail": w1 - out["last_end"], "imbalance": out.get("imbalance", float("nan"))}
    return {
        **phases,
        "wall": wall,
        "parent": s1 - s0,
        "workers": (k1 - k0) + actors,
        "stub": (_pid_cpu(stub_pid) - stub0) if stub_pid else 0.0,
        "load": os.getloadavg()[0],
        # mean seconds a sample took (evaluate rows): concurrency / this bounds samples/s
        "latency": latency if isinstance(latency, float) else float("nan"),
    }


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


def raw_http_client(url: str, n: int, concurrency: int) -> None:
    """The raw aiohttp loop over forgekit's own HTTP/1.1 client (the lean source's
    transport since session 6): what the lean road costs before forgekit records anything."""
    from forgekit.models.http_client import ConnectionPool

    async def run() -> None:
        sem = asyncio.Semaphore(concurrency)
        pool = ConnectionPool()
        headers = {"Content-Type": "application/json"}

        async def one(i: int) -> str:
            body = {
                "model": "raw",
                "messages": [{"role": "user", "content": f"what is {i} + {i}?"}],
                "max_tokens": 16,
            }
            async with sem:
                resp = await pool.post(url + "/chat/completions", json.dumps(body).encode(),
                                       headers, 60)
            return json.loads(resp.body)["choices"][0]["message"]["content"]

        out = await asyncio.gather(*(one(i) for i in range(n)))
        assert len(out) == n
        await pool.close()

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
    workers: int = 1, executor: Any = None,
) -> dict[str, float]:
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
    if executor == "ray":
        from forgekit.evals.ray_executor import RayExecutor

        executor = RayExecutor(workers)  # on the actors an earlier evaluation left idle
    ends = tempfile.mkdtemp(prefix="bench-ends-") if workers > 1 and executor is None else None
    with _worker_ends(ends):
        res = evaluate(suite, Gateway(cfg), out_dir=out, progress=False, workers=workers,
                       executor=executor)
    bad = res.df.filter(res.df["status"] != "completed")
    assert res.df.height == n and bad.height == 0, bad["error"].head(3).to_list()
    # the first sample's start and the last one's end: setup before, tail after
    starts = res.df["finished_at"] - res.df["latency_s"]
    info = {"latency": float(res.df["latency_s"].mean()), "first_start": float(starts.min()),
            "last_end": float(res.df["finished_at"].max())}
    if ends is not None:  # how long one worker process idled before the last one finished
        times = [float(f.read_text()) for f in Path(ends).iterdir()]
        info["imbalance"] = max(times) - min(times)
    return info


@contextlib.contextmanager
def _worker_ends(folder: str | None):
    """Each worker process writes the time it finished into `folder` (benchmark only)."""
    if folder is None:
        yield
        return
    import forgekit.evals.workers as w

    orig = w._worker_main

    def main(*args):
        try:
            orig(*args)
        finally:
            Path(folder, str(os.getpid())).write_text(repr(time.time()))

    w._worker_main = main
    try:
        yield
    finally:
        w._worker_main = orig


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


ROWS = {  # key: the row's name
    "bare": "bare litellm.acompletion + gather",
    "bare-like": "  same, set up like evaluate()",
    "litellm": "forgekit evaluate() via litellm",
    "raw": "raw aiohttp + gather",
    "raw-fk": "raw forgekit http_client + gather",
    "lean": "forgekit evaluate() lean source",
    "workers2": "forgekit lean, --workers 2",
    "workers2-sessions": "  same, workers in own sessions",
    "ray": "forgekit lean, ray 2 actors",
}


def own_sessions(fn):
    """Run `fn` with each worker process in a session of its own (`os.setsid`): where
    the kernel shares CPU between sessions (CFS autogroup, on by default on many Linux
    systems), a second process of the same session gets no extra CPU while other
    sessions are busy; in its own session it competes as a separate job. A diagnostic
    row: forgekit itself keeps its workers in the caller's session (and so within its
    fair share)."""
    import forgekit.evals.workers as w

    orig = w._worker_main

    def main(*args):
        os.setsid()
        orig(*args)

    w._worker_main = main
    try:
        return fn()
    finally:
        w._worker_main = orig


def start_ray() -> bool:
    """A local Ray with 2 CPUs, started before the rounds (its ~10-60 s start is not
    what the row measures; the executor joins it)."""
    try:
        from forgekit.evals.ray_start import start_local_ray

        start_local_ray(2)
        return True
    except Exception as e:  # ray-project/ray#65983 on a busy machine
        print(f"ray: no local Ray ({type(e).__name__}: {str(e)[:200]}); no Ray row")
        return False


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="alternate the rows this many times; report each one's best",
    )
    ap.add_argument(
        "--rows",
        default="bare,bare-like,litellm,raw,raw-fk,lean,workers2",
        help=f"which rows, in order (of {', '.join(ROWS)})",
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
    keys = [k.strip() for k in args.rows.split(",") if k.strip()]
    if args.ray and "ray" not in keys:
        keys.append("ray")
    unknown = [k for k in keys if k not in ROWS]
    if unknown:
        ap.error(f"unknown rows {unknown}; choose from {', '.join(ROWS)}")
    if "ray" in keys and not start_ray():
        keys.remove("ray")
    ideal = conc / (args.latency_ms / 1000)
    stub, url = start_stub(args.latency_ms)
    rows: dict[str, dict[str, float]] = {}
    walls: dict[str, list[float]] = {}  # per round, for the per-round ratios
    try:
        # warm-up: imports and the first connection are not what we measure
        tmp = Path(tempfile.mkdtemp(prefix="bench-runner-"))
        (tmp / "warm").mkdir()
        warm_tasks = write_tasks(tmp / "warm", 64)
        if {"bare", "bare-like", "litellm"} & set(keys):
            bare_litellm(url, 64, conc)
            forgekit_runner(url, warm_tasks, 64, conc, tmp / "warm" / "out2", "litellm")
        raw_aiohttp(url, 64, conc)
        forgekit_runner(url, warm_tasks, 64, conc, tmp / "warm" / "out")
        if "ray" in keys:  # the actors' start (fresh Pythons importing Ray and forgekit)
            m = timed(lambda: forgekit_runner(url, warm_tasks, 64, conc, tmp / "warm" / "ray",
                                              workers=2, executor="ray"), stub.pid, ray=True)
            print(f"ray warm-up (2 actors started, 64 samples): {m['wall']:.2f} s wall, "
                  f"CPU {m['parent']:.2f} s here + {m['workers']:.2f} s actors", flush=True)
        tasks = write_tasks(tmp, n)
        fns = {
            "bare": lambda r: bare_litellm(url, n, conc),
            "bare-like": lambda r: bare_litellm_like_evaluate(url, n, conc),
            "litellm": lambda r: forgekit_runner(
                url, tasks, n, conc, tmp / f"litellm{r}", "litellm"),
            "raw": lambda r: raw_aiohttp(url, n, conc),
            "raw-fk": lambda r: raw_http_client(url, n, conc),
            "lean": lambda r: forgekit_runner(url, tasks, n, conc, tmp / f"run{r}"),
            "workers2": lambda r: forgekit_runner(
                url, tasks, n, conc, tmp / f"w2-{r}", workers=2),
            "workers2-sessions": lambda r: own_sessions(lambda: forgekit_runner(
                url, tasks, n, conc, tmp / f"w2s-{r}", workers=2)),
            "ray": lambda r: forgekit_runner(
                url, tasks, n, conc, tmp / f"ray{r}", workers=2, executor="ray"),
        }
        for r in range(args.rounds):  # alternate, so a noisy neighbour hits all alike
            for key in keys:
                m = timed(lambda key=key, r=r: fns[key](r), stub.pid, ray=key == "ray")
                print(
                    f"round {r}: {ROWS[key]}: {m['wall']:.2f} s wall, CPU {m['parent']:.2f} s "
                    f"here + {m['workers']:.2f} s workers, stub {m['stub']:.2f} s, "
                    f"load {m['load']:.1f}, mean sample latency {m['latency'] * 1000:.0f} ms"
                    + (f"; setup {m['setup'] * 1000:.0f} ms, samples {m['samples']:.2f} s, "
                       f"tail {m['tail'] * 1000:.0f} ms" if "setup" in m else "")
                    + (f"; the first worker to finish did {m['imbalance'] * 1000:.0f} ms before "
                       "the last" if m.get("imbalance", float("nan")) == m.get("imbalance") else ""),
                    flush=True,
                )
                walls.setdefault(key, []).append(m["wall"])
                if key not in rows or m["wall"] < rows[key]["wall"]:
                    rows[key] = m
        if args.inspect_python:
            try:
                wall, cpu = inspect_runner(args.inspect_python, url, n, conc)
                rows["inspect"] = {"wall": wall, "parent": cpu, "workers": 0.0,
                                   "stub": 0.0, "load": os.getloadavg()[0],
                                   "latency": float("nan")}
            except Exception as e:  # report, do not crash the benchmark
                print(f"inspect-ai: {type(e).__name__}: {e}")
    finally:
        stub.stop(10)
    base_key = "bare" if "bare" in rows else keys[0]
    base = n / rows[base_key]["wall"]
    print(
        f"\n{n} samples, concurrency {conc}, stub latency {args.latency_ms:g} ms, "
        f"ideal {ideal:.0f} samples/s, {os.cpu_count()} CPUs; x base = x {ROWS[base_key]!r}"
    )
    print(f"{'':38}{'wall s':>8}{'samples/s':>11}{'x ideal':>9}{'x base':>8}"
          f"{'CPU ms/sample':>15}{'(workers)':>10}{'stub ms/req':>12}{'latency ms':>11}"
          f"{'load':>6}")
    for key, m in rows.items():
        rate = n / m["wall"]
        name = ROWS.get(key, "inspect-ai eval()")
        print(
            f"{name:38}{m['wall']:>8.2f}{rate:>11.0f}{rate / ideal:>9.2f}{rate / base:>8.2f}"
            f"{(m['parent'] + m['workers']) / n * 1000:>15.2f}{m['workers'] / n * 1000:>10.2f}"
            f"{m['stub'] / n * 1000:>12.2f}{m['latency'] * 1000:>11.0f}{m['load']:>6.1f}"
        )
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    if "lean" in rows and "workers2" in rows:
        # what a quiet machine with this many cores could reach at best, from the CPU
        # each row spent: one process is bound by one core (the stub by another), N
        # processes by every core shared with the stub; both by concurrency / latency
        cores = os.cpu_count() or 1
        one, two = rows["lean"], rows["workers2"]
        lean_ms = one["parent"] / n
        best_one = min(ideal, 1 / lean_ms, (cores / (lean_ms + one["stub"] / n)))
        best_two = min(ideal, cores / ((two["parent"] + two["workers"] + two["stub"]) / n))
        print(f"CPU-bound ceiling on {cores} idle cores: one process {best_one:.0f}/s, "
              f"--workers 2 {best_two:.0f}/s: at most {best_two / best_one:.2f}x")
        # however many processes: `concurrency` in flight, each waiting `latency` at least
        measured = n / one["wall"]
        print(f"concurrency ceiling: {ideal:.0f}/s for any number of workers, "
              f"{ideal / measured:.2f}x this run's one process ({measured:.0f}/s)")
    for key, ref in (("workers2", "lean"), ("workers2-sessions", "lean"), ("ray", "lean"),
                     ("ray", "workers2")):
        if key in walls and ref in walls:
            ratios = sorted(a / b for a, b in zip(walls[ref], walls[key], strict=True))
            print(f"{ROWS[key].strip()} x {ROWS[ref].strip()} per round: "
                  + ", ".join(f"{x:.2f}" for x in ratios))
    if "bare" in walls:
        for key, ws in walls.items():
            if key in ("lean", "litellm", "workers2", "ray"):
                ratios = sorted(b / w for b, w in zip(walls["bare"], ws, strict=True))
                med = ratios[len(ratios) // 2]
                print(f"{ROWS[key]} x bare litellm per round: "
                      + ", ".join(f"{x:.2f}" for x in ratios) + f" (median {med:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A/B of the lean `evaluate()` row's CPU per sample: this checkout against another
revision, in alternating processes of one command.

Each round starts one process per side; a process starts the stub server, warms up
(one small evaluation: imports, the aiohttp pool), then times `--runs` evaluations of
`--n` samples (the benchmark's lean row: prompt solver, `exact` scorer, trajectory
files, results log, Parquet table, summary) and prints the CPU milliseconds a sample
of each. The sides alternate round by round, so a busy machine slows both alike.

    .venv/bin/python benchmarks/runner/ab_per_sample.py --base main --n 1000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def child(n: int, runs: int, concurrency: int) -> None:
    """One side: print a JSON list of CPU ms per sample, one per timed evaluation."""
    sys.path.insert(0, str(HERE))
    import bench_runner as b

    stub, url = b.start_stub(50.0)
    out = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_p = Path(tmp)
            (tmp_p / "warm").mkdir()
            b.forgekit_runner(url, b.write_tasks(tmp_p / "warm", 100), 100, concurrency,
                              tmp_p / "warm" / "run")
            tasks = b.write_tasks(tmp_p, n)
            for r in range(runs):
                t0 = time.process_time()
                b.forgekit_runner(url, tasks, n, concurrency, tmp_p / f"run{r}")
                out.append((time.process_time() - t0) / n * 1000)
    finally:
        stub.stop(10)
    print(json.dumps(out))


def side(path: Path, args: argparse.Namespace) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(path)}
    r = subprocess.run(
        [sys.executable, str(HERE / "ab_per_sample.py"), "--child", "--n", str(args.n),
         "--runs", str(args.runs), "--concurrency", str(args.concurrency)],
        cwd=path, env=env, capture_output=True, text=True, timeout=900,
    )
    if r.returncode != 0:
        raise RuntimeError(f"{path}: {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default="main", help="the git revision to compare with")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=2, help="timed evaluations per process")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.n, args.runs, args.concurrency)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        archive = subprocess.run(["git", "archive", args.base], cwd=REPO, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        sides = {f"base ({args.base})": base, "this checkout": REPO}
        got: dict[str, list[float]] = {k: [] for k in sides}
        for r in range(args.rounds):
            for name, path in sides.items():
                ms = side(path, args)
                got[name].extend(ms)
                print(f"round {r + 1} {name:>24}: " + " ".join(f"{m:.3f}" for m in ms)
                      + f"  (load {os.getloadavg()[0]:.1f})", flush=True)
    print(f"\nCPU ms per sample, {args.n} samples x {args.runs} runs x {args.rounds} rounds:")
    for name, ms in got.items():
        print(f"  {name:>24}: min {min(ms):.3f}  median {statistics.median(ms):.3f}")
    (a, b) = got.values()
    print(f"  this ÷ base (medians): {statistics.median(b) / statistics.median(a):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

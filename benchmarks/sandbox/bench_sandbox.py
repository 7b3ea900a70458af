"""Start-up cost of the OS sandbox per command: a sandboxed `bash -c true` (and a short
`python3 -c pass`) against the same command run bare, in the same process.

    .venv/bin/python benchmarks/sandbox/bench_sandbox.py [--n 200]

Variants, interleaved (bare, none, bwrap, bare, ...) so that a busy machine slows them
alike; --n commands each (median and p90 wall time per command):

- bare: `asyncio.create_subprocess_exec("bash", "-c", CMD)` and wait, the baseline;
- none: forgekit's `Sandbox(..., config="none")` (the minimal environment and rlimits via
  a `/bin/sh` launcher, no bwrap): what the launcher alone costs;
- bwrap: forgekit's `Sandbox(ws)`: launcher + bwrap (user/pid/ipc/uts/net namespaces,
  mounts, a pids cgroup where available) + the inner `sh` that sets RLIMIT_NPROC.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from forgekit.core.sandbox import Sandbox, sandbox_status  # noqa: E402


async def _bare(argv: list[str]) -> None:
    p = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE)
    await p.communicate()


async def _measure(runs: dict, argv: list[str], n: int) -> dict[str, list[float]]:
    for run in runs.values():  # warm-up
        for _ in range(3):
            await run(argv)
    out: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(n):
        for name, run in runs.items():
            t0 = time.perf_counter()
            await run(argv)
            out[name].append(time.perf_counter() - t0)
    return out


def _fmt(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs) * 1000, xs[int(len(xs) * 0.9)] * 1000


async def main(n: int) -> None:
    st = sandbox_status()
    print(f"sandbox: {st.detail} (process cap: {st.process_cap})")
    with tempfile.TemporaryDirectory() as d:
        ws = Path(d)
        boxes = {"none": Sandbox(ws, config="none"), "bwrap": Sandbox(ws)}

        def via(box):
            async def run(argv):
                r = await box.run(argv, timeout_s=30)
                assert r.returncode == 0, r.output

            return run

        runs = {"bare": _bare, **{name: via(box) for name, box in boxes.items()}}
        for label, argv in [("bash -c true", ["bash", "-c", "true"]),
                            ("python -c pass", [sys.executable, "-c", "pass"])]:  # fmt: skip
            times = await _measure(runs, argv, n)
            bare = _fmt(times["bare"])
            print(f"\n{label} (n={n}): median / p90 ms per command, ratio of medians to bare")
            print(f"  {'bare':6} {bare[0]:7.2f} / {bare[1]:7.2f}   1.00x")
            for name in boxes:
                m = _fmt(times[name])
                print(f"  {name:6} {m[0]:7.2f} / {m[1]:7.2f}   {m[0] / bare[0]:.2f}x "
                      f"(+{m[0] - bare[0]:.1f} ms)")  # fmt: skip


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    asyncio.run(main(ap.parse_args().n))

"""One writer per eval: a second process on the same eval exits with a clear message or
waits (`wait=True` / `--wait`); with two at once every sample is still done once."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from forgekit.evals.lock import EvalLock, EvalLocked

SAMPLES = [{"id": f"s{i:02d}", "input": f"what is {i} + 1?", "target": str(i + 1)}
           for i in range(24)]

SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from conftest import make_config
    from test_resume import answer
    from forgekit.evals import evaluate
    from forgekit.evals.lock import EvalLocked
    from forgekit.models import Gateway, ScriptedSource
    import os, time

    def gated(request):  # holds the eval until the test opens the gate
        while not os.path.exists({gate!r}):
            time.sleep(0.01)
        return answer(request)

    src = ScriptedSource(gated)
    gw = Gateway(make_config({root!r}), source=src)
    try:
        res = evaluate({suite!r}, gw, out_dir={out!r}, progress=False, wait={wait})
    except EvalLocked as e:
        print("LOCKED", e)
        sys.exit(2)
    print("FINISHED", res.df.height, "calls", len(src.requests))
""")


def test_a_second_lock_in_the_same_folder_names_the_holder(tmp_path: Path) -> None:
    first = EvalLock(tmp_path, "main-abc")
    asyncio.run(first.acquire())
    with pytest.raises(EvalLocked, match=rf"eval main-abc is running in pid {os.getpid()}"):
        asyncio.run(EvalLock(tmp_path, "main-abc").acquire())
    first.release()
    again = EvalLock(tmp_path, "main-abc")
    asyncio.run(again.acquire())  # free once released
    again.release()


def _start(tmp_path: Path, suite: Path, out: Path, *, wait: bool, name: str):
    script = tmp_path / f"{name}.py"
    script.write_text(SCRIPT.format(tests=str(Path(__file__).parent), root=str(tmp_path),
                                    suite=str(suite), out=str(out), wait=wait,
                                    gate=str(tmp_path / "gate")))
    return subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_two_processes_on_one_eval_do_each_sample_once(config, write_suite, tmp_path) -> None:
    suite = write_suite(samples=SAMPLES, concurrency=2)
    out = tmp_path / "o"
    first = _start(tmp_path, suite, out, wait=False, name="first")
    lock = out / ".lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and first.poll() is None:
        if lock.exists() and str(first.pid) in lock.read_text():
            break
        time.sleep(0.02)
    assert first.poll() is None, first.communicate()[0]
    refused = _start(tmp_path, suite, out, wait=False, name="refused")
    text = refused.communicate(timeout=120)[0]
    assert refused.returncode == 2, text
    assert f"is running in pid {first.pid}" in text and "--wait" in text
    waiter = _start(tmp_path, suite, out, wait=True, name="waiter")
    seen = []
    for line in waiter.stdout:  # the waiter says it waits before it blocks
        seen.append(line)
        if "waiting for it to finish" in line:
            break
    assert f"running in pid {first.pid}" in seen[-1], seen
    (tmp_path / "gate").touch()
    assert first.wait(timeout=120) == 0
    w = "".join(seen) + waiter.communicate(timeout=120)[0]
    # the waiter ran after the first had finished: nothing left to do
    assert waiter.returncode == 0 and "FINISHED 24 calls 0" in w, w
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["sample_id"] for r in lines) == [s["id"] for s in SAMPLES]

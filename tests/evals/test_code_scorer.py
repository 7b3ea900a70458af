"""The code-execution scorer: every bundled reference passes, broken code fails, hangs
are killed, memory is limited, the network is off."""

from __future__ import annotations

import asyncio
import time

import pytest

from forgekit.core.samples import Answer
from forgekit.evals import build_scorer, load_samples
from forgekit.evals.code_sandbox import run_python
from forgekit.evals.code_scorer import extract_code

TASKS = load_samples("datasets/python_functions/python_functions.jsonl")


def _run(spec, sample, text):
    return asyncio.run(build_scorer(spec)(sample, Answer(text=text)))


def test_every_reference_solution_passes() -> None:
    async def all_refs():
        sc = build_scorer("code")
        return await asyncio.gather(*(sc(t, Answer(text=t.target)) for t in TASKS))

    scores = asyncio.run(all_refs())
    failed = [(t.id, s.explanation) for t, s in zip(TASKS, scores, strict=True) if s.value != 1.0]
    assert not failed
    assert all(s.explanation.startswith("all tests passed") for s in scores)


def test_broken_solutions_fail() -> None:
    # a reference with its last line changed to return None breaks every task
    async def broken():
        sc = build_scorer("code")
        out = []
        for t in TASKS:
            lines = t.target.rstrip("\n").splitlines()
            indent = len(lines[-1]) - len(lines[-1].lstrip())
            bad = "\n".join(lines[:-1] + [" " * indent + "return None"]) + "\n"
            out.append(await sc(t, Answer(text=bad)))
        return out

    scores = asyncio.run(broken())
    assert all(s.value == 0.0 for s in scores), [s.explanation for s in scores]
    assert "AssertionError" in scores[0].explanation or "exit" in scores[0].explanation


def test_completion_of_the_prompt_body_and_fenced_code() -> None:
    add = TASKS[0]
    assert _run("code", add, "    return a + b\n").value == 1.0
    assert _run("code", add, "Here:\n```python\ndef add(a, b):\n    return a+b\n```").value == 1.0
    assert extract_code("```py\nx = 1\n```") == "x = 1\n"


def test_a_hang_is_killed_at_the_timeout() -> None:
    t0 = time.monotonic()
    s = _run(
        {"type": "code", "timeout_s": 1.5},
        TASKS[0],
        "import os\nos.fork()\ndef add(a, b):\n    while True:\n        pass\n",
    )
    assert s.value == 0.0 and s.metadata["timed_out"] and "timeout" in s.explanation
    assert time.monotonic() - t0 < 10


def test_memory_is_limited() -> None:
    s = _run(
        {"type": "code", "memory_mb": 200},
        TASKS[0],
        "blob = bytearray(600 * 1024 * 1024)\ndef add(a, b):\n    return a + b\n",
    )
    assert s.value == 0.0 and "MemoryError" in s.explanation


def test_no_network_and_a_private_temp_dir() -> None:
    r = run_python(
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), 1)\n"
        "    print('connected')\nexcept OSError as e:\n    print('blocked', e)\n"
        "import os\nprint(os.getcwd())\n"
    )
    assert r.ok and "blocked" in r.stdout and "forgekit-sandbox-" in r.stdout


def test_files_cannot_escape_the_sandbox() -> None:
    with pytest.raises(ValueError, match="escapes"):
        run_python("print(1)", files={"../x.txt": "no"})


def test_a_fork_bomb_is_contained_and_killed() -> None:
    from forgekit.core.sandbox import sandbox_status

    if sandbox_status().process_cap == "none":
        pytest.skip("root without a pids cgroup: a bomb would reach the host's process table")
    t0 = time.monotonic()
    s = _run(
        {"type": "code", "timeout_s": 2},
        TASKS[0],
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    )
    assert s.value == 0.0 and s.metadata.get("timed_out")
    assert time.monotonic() - t0 < 15


def test_the_code_runs_in_the_os_sandbox() -> None:
    r = run_python(
        "import os\nprint(sorted(os.environ))\nprint(os.getpid())\n"
        "open('/etc/forgekit-scorer', 'w')\n"
    )
    assert "PermissionError" in r.stderr or "Read-only" in r.stderr
    assert "OPENAI_API_KEY" not in r.stdout and r.stdout.splitlines()[1] in {"1", "2", "3"}

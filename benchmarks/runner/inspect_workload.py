"""The benchmark's workload through Inspect AI, run by `bench_runner.py --inspect-python`
in an environment where inspect-ai works (it needs openai>=3.4, which litellm 1.106.2
does not allow in forgekit's venv). Prints one JSON line: wall and CPU seconds of the
timed `eval()` (after a warm-up run), and whether every sample succeeded."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time


def run(n: int, concurrency: int) -> bool:
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import exact
    from inspect_ai.solver import generate

    task = Task(
        dataset=[Sample(input=f"what is {i} + {i}?", target=str(2 * i)) for i in range(n)],
        solver=generate(),
        scorer=exact(),
    )
    logs = inspect_eval(
        task,
        # the OpenAI-compatible provider (chat completions; "openai/" uses /responses)
        model="openai-api/stub/stub",
        max_connections=concurrency,
        max_samples=concurrency,
        max_tokens=16,
        display="none",
        log_level="error",
    )
    return logs[0].status == "success" and len(logs[0].samples or []) == n


def main() -> int:
    url, n, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.environ["STUB_API_KEY"] = "sk-bench"
    os.environ["STUB_BASE_URL"] = url
    os.environ.setdefault("INSPECT_LOG_DIR", tempfile.mkdtemp(prefix="bench-inspect-"))
    run(64, concurrency)  # warm-up: imports, first connection
    c0, t0 = time.process_time(), time.perf_counter()
    ok = run(n, concurrency)
    print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "ok": ok}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

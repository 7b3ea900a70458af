"""The code-execution scorer: run a candidate function against the task's unit tests
(HumanEval style: `check(candidate)`) in the sandbox."""

from __future__ import annotations

import re
from typing import Any

from forgekit.core.context import RunContext
from forgekit.core.samples import Answer, Sample, Score
from forgekit.evals.code_sandbox import run_python
from forgekit.evals.scorer_registry import scorer, to_thread

_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)(?:```|$)", re.S)


def extract_code(text: str) -> str:
    """The code in a model's answer: the first fenced block holding a `def`, else the
    first block, else the text itself."""
    blocks = _FENCE.findall(text)
    for b in blocks:
        if "def " in b:
            return b
    return blocks[0] if blocks else text


def build_program(sample: Sample, candidate: str) -> str:
    """The program the sandbox runs: candidate (completed from the prompt if it is only a
    body), the task's test code, then `check(entry_point)`."""
    meta = sample.metadata
    entry = meta.get("entry_point")
    test = meta.get("test")
    if not entry or not test:
        raise ValueError(
            f"sample {sample.id}: code tasks need metadata.entry_point and metadata.test"
        )
    code = extract_code(candidate)
    if not re.search(rf"def\s+{re.escape(entry)}\s*\(", code):
        code = sample.input_text() + code  # a HumanEval-style completion of the prompt body
    return f"{code}\n\n{test}\n\ncheck({entry})\n"


def run_tests(
    sample: Sample,
    candidate: str,
    *,
    timeout_s: float = 10.0,
    memory_mb: int = 512,
    sandbox: Any = None,
) -> Score:
    """Run the candidate against the sample's tests (blocking) in the OS sandbox
    (`sandbox`: the project's `sandbox:` config; default bubblewrap)."""
    program = build_program(sample, candidate)
    r = run_python(
        program, timeout_s=timeout_s, memory_mb=memory_mb, files=sample.files, sandbox=sandbox
    )
    if r.timed_out:
        return Score(
            scorer="code",
            value=0.0,
            answer=candidate,
            explanation=f"killed after {timeout_s:g}s timeout",
            metadata={"timed_out": True},
        )
    if r.ok:
        return Score(
            scorer="code",
            value=1.0,
            answer=candidate,
            explanation=f"all tests passed in {r.duration_s:.2f}s",
            metadata={"network_isolated": r.isolated_network},
        )
    tail = (r.stderr.strip().splitlines() or ["(no output)"])[-1]
    return Score(
        scorer="code",
        value=0.0,
        answer=candidate,
        explanation=f"tests failed (exit {r.returncode}): {tail[:300]}",
        metadata={"returncode": r.returncode, "stderr": r.stderr[-1500:]},
    )


@scorer("code")
async def code(
    sample: Sample,
    answer: Answer,
    ctx: RunContext | None = None,
    *,
    timeout_s: float = 10.0,
    memory_mb: int = 512,
) -> Score:
    """1 when the answer's code passes the task's unit tests in the sandbox."""
    config = getattr(getattr(getattr(ctx, "gateway", None), "config", None), "sandbox", None)
    if config is None:
        from forgekit.core.config import project_sandbox_config

        config = project_sandbox_config()
    return await to_thread(
        run_tests, sample, answer.text, timeout_s=timeout_s, memory_mb=memory_mb, sandbox=config
    )

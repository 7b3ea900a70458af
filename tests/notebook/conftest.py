"""Fixtures of the notebook layer: a small recorded run with a child, written by the real
trajectory Recorder."""

from __future__ import annotations

from pathlib import Path

import pytest

from forgekit.core.events import ModelCall, ScoreEvent, StepEvent, ToolCallEvent
from forgekit.core.messages import Message, Usage


def record_run(runs_dir: Path) -> Path:
    """A two-step agent run with a tool call, a score and one child run; its file."""
    from forgekit.trajectory import Recorder

    rec = Recorder.start(runs_dir, solver="agent", models=["local"], sample_id="s1")
    rec.emit(
        ModelCall(
            alias="local",
            model="smollm2",
            messages=[Message.user("What is 6*7?")],
            text="I will use the calculator",
            usage=Usage(input_tokens=12, output_tokens=6),
            cost_usd=0.0002,
            latency_s=0.4,
        )
    )
    rec.emit(
        ToolCallEvent(
            call_id="c1",
            name="calculator",
            arguments={"expr": "6*7"},
            result="42",
            decision="allow",
            duration_s=0.01,
        )
    )
    rec.emit(
        StepEvent(step=1, thought="need arithmetic", action="calculator(6*7)", observation="42")
    )
    child = rec.child("reviewer", models=["local"])
    child.emit(
        ModelCall(
            alias="local",
            model="smollm2",
            messages=[Message.user("check 42")],
            text="looks right",
            usage=Usage(input_tokens=5, output_tokens=2),
            cost_usd=0.0001,
            latency_s=0.2,
        )
    )
    child.finish(status="completed", answer="ok")
    rec.emit(
        ModelCall(
            alias="local",
            model="smollm2",
            messages=[Message.user("final?")],
            text="The answer is 42",
            usage=Usage(input_tokens=20, output_tokens=5),
            cost_usd=0.0003,
            latency_s=0.6,
        )
    )
    rec.emit(StepEvent(step=2, thought="done", action="answer", observation="The answer is 42"))
    rec.emit(ScoreEvent(scorer="exact", value=1.0, answer="42", target="42"))
    rec.finish(status="completed", answer="42")
    return rec.path


@pytest.fixture
def recorded_run(tmp_path: Path) -> Path:
    return record_run(tmp_path / "runs")


def two_solver_eval(root: Path, run=None) -> object:
    """A real evaluation (the eval runner, a scripted model) of two solvers on 8 samples:
    `plain` is right on multiples of 3, `exact` on every sample but s5; the runs'
    trajectories are on disk. `run(suite, gateway, out_dir=...)` replaces `evaluate`."""
    import json
    import re

    import yaml

    from forgekit.core.config import AliasConfig, Price, load_config
    from forgekit.evals import evaluate
    from forgekit.models import Gateway, ScriptedSource

    cfg = load_config(env={"FORGEKIT_HOME": str(root / "home")})
    cfg.cache.enabled = False
    cfg.tracking.enabled = False
    cfg.models.aliases["m1"] = AliasConfig(
        model="openai/m1", api_base="http://x", max_retries=0,
        price=Price(input_per_1k=0.01, output_per_1k=0.02),
    )

    def answer(request) -> str:
        n = int(re.findall(r"\d+", request.messages[-1].content)[0])
        if "Be exact" in (request.messages[0].content or ""):
            return "I think it is 99" if n == 5 else f"The answer is {2 * n}"
        return f"The answer is {2 * n}" if n % 3 == 0 else "no idea, sorry"

    root.mkdir(parents=True, exist_ok=True)
    samples = [{"id": f"s{i}", "input": f"what is {i} + {i}?", "target": str(2 * i)}
               for i in range(8)]
    (root / "tasks.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    suite = root / "suite.yaml"
    suite.write_text(yaml.safe_dump({
        "name": "viewer-demo", "taskset": "tasks.jsonl", "models": ["m1"],
        "solvers": [{"name": "plain", "template": "{input}"},
                    {"name": "exact", "template": "{input}", "system": "Be exact."}],
        "scorers": ["numeric"],
    }, sort_keys=False))
    gateway = Gateway(cfg, source=ScriptedSource(answer))
    if run is not None:
        return run(suite, gateway, out_dir=root / "eval")
    return evaluate(suite, gateway, out_dir=root / "eval", progress=False)


@pytest.fixture
def two_solver_results(tmp_path: Path):
    return two_solver_eval(tmp_path / "viewer")

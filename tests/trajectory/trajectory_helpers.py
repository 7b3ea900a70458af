"""Helpers for the trajectory tests: a small agent-like solver over a scripted gateway
(a uniquely named module: several test folders have a conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from forgekit.core import Answer, Message, RunContext, Sample, StepEvent, ToolCallEvent
from forgekit.models import Gateway

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "calc",
            "description": "add",
            "parameters": {"type": "object", "properties": {}},
        },
    }
]


class LoopSolver:
    """An agent-like solver: `steps` model calls over a growing conversation, a tool call
    and a step event after each, and an optional child run at the end."""

    name = "loop"

    def __init__(self, steps: int = 3, child: bool = False, prompt: str = "task") -> None:
        self.steps, self.child, self.prompt = steps, child, prompt

    def config(self) -> dict[str, Any]:
        return {"steps": self.steps, "child": self.child}

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        messages = [
            Message.system("You are a loop."),
            Message.user(f"{self.prompt}: {sample.input}"),
        ]
        text = ""
        for i in range(self.steps):
            r = await ctx.complete(messages, tools=TOOLS)
            text = r.text
            messages.append(r.to_message())
            result = f"observation {i} for {text}"
            ctx.emit(
                ToolCallEvent(
                    call_id=f"c{i}",
                    name="calc",
                    arguments={"i": i},
                    result=result,
                    decision="allow",
                )
            )
            ctx.emit(
                StepEvent(step=i, thought=f"thinking {i}", action=f"calc({i})", observation=result)
            )
            messages.append(Message.user(result))
        if self.child:
            sub = ctx.child("loop/check")
            r = await sub.complete(f"check {text}")
            sub.end(Answer(text=r.text))
            text = f"{text} / {r.text}"
        return Answer(text=text)



async def record_run(
    solver: Any, sample: Sample, gateway: Gateway, runs_dir: Path, **start: Any
) -> str:
    """Run `solver` on `sample` with a Recorder; returns the run id."""
    from forgekit.trajectory import Recorder

    rec = Recorder.start(
        runs_dir,
        solver=solver.name,
        config=solver.config(),
        models=["local"],
        sample_id=sample.id,
        **start,
    )
    ctx = RunContext(gateway=gateway, sink=rec, sample=sample, model="local")
    try:
        answer = await solver.solve(sample, ctx)
    except Exception as e:
        ctx.end(status="failed", error=f"{type(e).__name__}: {e}")
        raise
    ctx.end(answer)
    return rec.run_id

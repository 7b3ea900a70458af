"""Helpers for the orchestration tests (roles, graphs, workflows, handoffs, planning):
scripted solvers and replies per node (the gateway is `tests.scripted`; a uniquely named
module: several test folders have a conftest.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from forgekit.agents.graph import GraphBuilder
from forgekit.core.component import Component
from forgekit.core.context import RunContext
from forgekit.core.messages import ModelResponse
from forgekit.core.samples import Answer, Sample
from tests.scripted import call, last_user, reply


class Say(Component, type="test-say", kind="solver"):
    """A one-call solver: asks the model ``[name] <input>`` and answers with the reply;
    `delay_s` waits first (for races)."""

    def __init__(self, name: str, *, delay_s: float = 0.0) -> None:
        self.name = name
        self.delay_s = delay_s

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        r = await ctx.complete(f"[{self.name}] {sample.input_text()}")
        return Answer(text=r.text, usage=r.usage)


def by_node(replies: dict[str, Any]):
    """A script answering by the ``[name]`` prefix: a value, or a list used in turn."""
    counts: dict[str, int] = {}

    def answer(request: Any) -> Any:
        text = request.messages[-1].content or ""
        name = text[1:text.index("]")]
        counts[name] = counts.get(name, 0) + 1
        r = replies[name]
        if isinstance(r, list):
            return r[min(counts[name], len(r)) - 1]
        return r(request) if callable(r) else r

    answer.counts = counts  # type: ignore[attr-defined]
    return answer


def team(**replies: Any):
    """A script answering by role (the ``You are the <role>.`` system prompt of a shipped
    role, else ``[name]`` as for `by_node`): each role's replies are used in turn (the
    last one repeats). ``script.counts`` counts the calls per role."""
    import re

    counts: dict[str, int] = {}

    def answer(request: Any) -> Any:
        first = request.messages[0]
        m = re.match(r"You are the (\w+)\.", first.content or "") if first.role == "system" else None
        if m:
            name = m.group(1)
        else:
            text = request.messages[-1].content or ""
            name = text[1:text.index("]")]
        counts[name] = counts.get(name, 0) + 1
        r = replies[name]
        r = r[min(counts[name], len(r)) - 1] if isinstance(r, list) else r
        return r(request) if callable(r) and not isinstance(r, ModelResponse) else r

    answer.counts = counts  # type: ignore[attr-defined]
    return answer


def tick(step: str) -> str:
    """Record that a step's tool ran (one line in $FK_TICKS/ticks.txt); at the step named
    by $FK_BLOCK_AT, say so in $FK_TICKS/blocked and hang (to be killed there)."""
    import os
    import time
    from pathlib import Path

    root = Path(os.environ["FK_TICKS"])
    if step == os.environ.get("FK_BLOCK_AT"):
        (root / "blocked").write_text(step)
        time.sleep(600)
    with open(root / "ticks.txt", "a", encoding="utf-8") as f:
        f.write(step + "\n")
    return f"ticked {step}"


def ticker(request: Any) -> Any:
    """An agent's script: call tick(<its step>), then answer."""
    if request.messages[-1].role == "tool":
        return reply("step done")
    step = last_user(request).rsplit("Your step now: [", 1)[1].split("]")[0]
    return reply("", call("tick", {"step": step}, id=f"t-{step}"))


def tick_workflow() -> Any:
    """A three-step workflow whose steps are agents calling `tick` (for crash tests)."""
    from forgekit.agents import Agent
    from forgekit.agents.workflow import Workflow

    plan = {"steps": [{"id": s, "description": f"tick {s}"} for s in ("s1", "s2", "s3")]}
    agent = Agent(model="m", tools=[tick], name="ticker")
    return Workflow(planner=None, plan=plan, executor=agent, reviewer=None,
                    approval="skip", name="ticks")


def chain_graph(name: str) -> object:
    """A graph of three `Say` nodes, a -> b -> c."""
    return (GraphBuilder(name).node("a", Say("a")).node("b", Say("b")).node("c", Say("c"))
            .edge("a", "b").edge("b", "c").build())

"""Handoffs: an agent hands the task to a named teammate with a context message, by
calling a tool (the OpenAI Agents SDK's pattern).

    team = HandoffTeam({"triage": "researcher", "coder": "coder", "reviewer": "reviewer"},
                       start="triage", max_handoffs=4)
    answer = team.run("Fix the failing test in calc.py", gw, workspace="ws")

Each member that is a role or an `Agent` gets a ``handoff(to, message)`` tool listing its
teammates; calling it ends the member's turn, and the named teammate takes the next turn
(a child run) with the task and the message. Any other solver just answers. The team's
answer is the first turn that ends without a handoff. After `max_handoffs` the team stops
and records why (the chain of agents), so two agents passing the task back and forth
cannot loop forever.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from forgekit.agents.orchestration import Runnable, Turns
from forgekit.agents.tools import Tool, ToolError
from forgekit.agents.workflow import resolve_solver
from forgekit.core.component import Component
from forgekit.core.context import RunContext, Solver
from forgekit.core.errors import ConfigError
from forgekit.core.events import NoteEvent
from forgekit.core.messages import Usage
from forgekit.core.samples import Answer, Sample

HANDOFF_TOOL = "handoff"


class _HandoffArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str = Field(description="The name of the agent to hand the task to")
    message: str = Field(description="What the next agent needs to know to continue")


def handoff_tool(me: str, teammates: dict[str, str], requests: list[dict[str, str]]) -> Tool:
    """The ``handoff(to, message)`` tool of agent `me`; a valid call is kept in `requests`."""

    def handoff(to: str, message: str) -> str:
        if to == me:
            raise ToolError(f"you are {me}; hand off to one of: {', '.join(teammates)}")
        if to not in teammates:
            raise ToolError(f"no agent {to!r}; choose one of: {', '.join(teammates)}")
        requests.append({"to": to, "message": message})
        return f"handed off to {to}"

    listing = "; ".join(f"{n}: {d}" if d else n for n, d in teammates.items())
    return Tool(HANDOFF_TOOL, f"Hand the task to another agent and end your turn. Agents: "
                              f"{listing}", handoff, args_model=_HandoffArgs, effect="none")


class _Member:
    """A team member's turn: its agent with the handoff tool, stopping once it is used."""

    def __init__(self, name: str, solver: Solver, teammates: dict[str, str]) -> None:
        self.name = name
        self.solver = solver
        self.teammates = teammates

    def config(self) -> dict[str, Any]:
        from forgekit.agents.orchestration import safe_config

        return safe_config(self.solver)

    def _agent(self, requests: list[dict[str, str]]) -> Any:
        from forgekit.agents.agent import Agent
        from forgekit.agents.roles import Role
        from forgekit.agents.termination import FunctionCallResult

        tool = handoff_tool(self.name, self.teammates, requests)
        stop_on_handoff = FunctionCallResult(HANDOFF_TOOL)
        if isinstance(self.solver, Role):
            agent = self.solver.agent(tools=[tool], name=self.name)
            agent.termination = agent.termination | stop_on_handoff
            return agent
        if isinstance(self.solver, Agent):
            agent = copy.copy(self.solver)
            agent.tools = [*self.solver.tools, tool]
            agent.termination = self.solver.termination | stop_on_handoff
            return agent
        return None

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        from forgekit.agents.roles import Role

        requests: list[dict[str, str]] = []
        agent = self._agent(requests)
        if isinstance(self.solver, Role):
            sample = self.solver.routed(sample)
        answer = await (agent or self.solver).solve(sample, ctx)
        if requests:
            answer.metadata = {**answer.metadata, "handoff": requests[-1]}
            answer.stop_reason = f"handoff to {requests[-1]['to']}"
        return answer


class HandoffTeam(Runnable, Component, type="handoff_team", kind="solver"):
    """Agents that hand the task to each other (see the module docstring)."""

    def __init__(self, members: dict[str, Any], *, start: str, max_handoffs: int = 5,
                 name: str = "team") -> None:
        if start not in members:
            raise ConfigError(f"start {start!r} is not a member; members: "
                              f"{', '.join(members)}", key="start")
        if max_handoffs < 0:
            raise ConfigError("max_handoffs must be >= 0", key="max_handoffs")
        self.name = name
        self.start = start
        self.max_handoffs = max_handoffs
        self.members = {k: resolve_solver(v, what=f"members.{k}") for k, v in members.items()}
        descriptions = {k: getattr(v, "description", "") or "" for k, v in self.members.items()}
        self._turn_solvers = {
            k: _Member(k, v, {n: d for n, d in descriptions.items() if n != k})
            for k, v in self.members.items()
        }

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        turns = Turns(ctx, self, sample, note="handoff_turn")
        try:
            return await self._go(turns)
        finally:
            turns.close()

    async def _go(self, turns: Turns) -> Answer:
        task = turns.sample.input_text()
        current, text = self.start, task
        chain = [current]
        visits: dict[str, int] = {}
        usage, cost = Usage(), 0.0
        while True:
            visits[current] = visits.get(current, 0) + 1
            sample = turns.sample.model_copy(update={"input": text})
            answer = await turns.turn(f"{current}#{visits[current]}",
                                      self._turn_solvers[current], sample,
                                      tags={"agent": current})
            usage += answer.usage
            cost += answer.cost_usd
            request = answer.metadata.get("handoff")
            if not request:
                reason = f"completed: {current} answered"
                break
            if len(chain) - 1 >= self.max_handoffs:
                reason = (f"handoff limit: {self.max_handoffs} handoff(s) made "
                          f"({' -> '.join(chain)}); {current} asked for another, to "
                          f"{request['to']}")
                turns.ctx.emit(NoteEvent(kind="handoff_limit", data={
                    "chain": chain, "refused_to": request["to"], "reason": reason}))
                break
            turns.ctx.emit(NoteEvent(kind="handoff", data={
                "from": current, "to": request["to"], "message": request["message"],
                "hop": len(chain)}))
            text = (f"{task}\n\n{current} handed the task to you ({request['to']}) with this "
                    f"message:\n{request['message']}")
            current = request["to"]
            chain.append(current)
        return Answer(text=answer.text, data=answer.data, stop_reason=reason, usage=usage,
                      cost_usd=cost, metadata={"chain": chain, "final_agent": current})

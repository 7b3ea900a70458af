"""Running the tool calls of one step: validate, ask the policy (and a human when it says
ask), call the tool, record a ToolCallEvent, publish `on_tool_call`. Calls returned
together run concurrently. Nothing here raises: every failure becomes an error text the
model sees as its observation."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from typing import Any

from forgekit.agents.feedback import ApprovalRequest
from forgekit.agents.policy import ToolPolicy
from forgekit.agents.tools import Tool, ToolEnv, ToolError
from forgekit.core.context import RunContext
from forgekit.core.errors import PolicyDenied
from forgekit.core.events import ToolCallEvent, ToolDecision
from forgekit.core.messages import ToolCall
from forgekit.core.redact import redact, redact_text


@dataclass
class ToolExecutor:
    """Runs tool calls for one agent run."""

    by_name: dict[str, Tool]
    policy: ToolPolicy
    feedback: Any
    env: ToolEnv
    ctx: RunContext
    parallel: bool = True

    async def run(self, calls: list[ToolCall]) -> list[tuple[str | None, str | None]]:
        """(result, error) per call, in the order of `calls`."""
        if self.parallel and len(calls) > 1:
            return list(await asyncio.gather(*(self.run_one(c) for c in calls)))
        return [await self.run_one(c) for c in calls]

    async def run_one(self, call: ToolCall) -> tuple[str | None, str | None]:
        """(result, error) of one call; every outcome is recorded, nothing raises."""
        t0 = time.perf_counter()
        decision: ToolDecision = "n/a"
        reason: str | None = None
        result: str | None = None
        error: str | None = None
        by_name, policy, ctx = self.by_name, self.policy, self.ctx
        tool = by_name.get(call.name)
        arguments = call.arguments
        edited = False
        try:
            if tool is None:
                raise ToolError(
                    f"unknown tool {call.name!r}; available tools: "
                    f"{', '.join(sorted(by_name)) or '(none)'}"
                )
            tool.validate(call.arguments)  # bad arguments never reach the policy or the tool
            verdict = policy.decide(tool, call.arguments)
            reason = verdict.reason
            if verdict.action != "ask":
                decision = verdict.action
            else:
                decision = "ask-denied"  # until approved: a failing provider denies the call
                approval = await self.feedback.approve(
                    ApprovalRequest(
                        tool=tool.name,
                        arguments=redact(call.arguments),
                        reason=verdict.reason,
                        risk=verdict.risk,
                    )
                )
                decision = "ask-approved" if approval.approved else "ask-denied"
                reason = f"{verdict.reason}; {approval.reason}"
                if approval.approved and approval.arguments is not None:
                    arguments, edited = approval.arguments, True
                    reason += f"; the model asked for {redact(call.arguments)}"
                    tool.validate(arguments)
                    again = policy.decide(tool, arguments)
                    if again.action == "deny":  # an edit cannot turn into a denied call
                        decision, reason = "deny", f"{reason}; edited call: {again.reason}"
            if decision in ("deny", "ask-denied"):
                raise PolicyDenied(f"denied by policy: {reason}", tool=tool.name, reason=reason)
            env = self.env
            if verdict.network:  # the policy grants this tool the network
                env = replace(env, options={**env.options, "network": True})
            result = redact_text(await tool.call(arguments, env))  # before the model sees it
            if edited:
                result = f"(the reviewer edited your call to {tool.name}({arguments}))\n{result}"
        except (ToolError, PolicyDenied) as e:
            error = str(e)
        except Exception as e:  # a failing tool is an observation, not a crash
            error = f"{call.name} failed: {type(e).__name__}: {e}"
        if error:  # the model sees the error text: no secret value in it
            error = redact_text(error)
        event = ctx.emit(
            ToolCallEvent(
                call_id=call.id,
                name=call.name,
                arguments=redact(arguments),
                result=redact_text(result) if result is not None else None,
                error=redact_text(error) if error else None,
                decision=decision,
                decision_reason=reason,
                duration_s=time.perf_counter() - t0,
                server=getattr(tool, "server", None),
            )
        )
        await ctx.bus.publish("on_tool_call", event)
        return result, error

"""Human feedback providers: who answers when the policy says ``ask``.

A provider is any object with ``async approve(request) -> Approval``. Shipped here:
`HeadlessFeedback` (no human: answers with a fixed verdict, deny by default),
`CLIFeedback` (asks on the terminal) and `CallbackFeedback` (any sync or async function,
e.g. a notebook widget's handler).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field


class ApprovalRequest(BaseModel):
    """What the human is asked about."""

    model_config = ConfigDict(extra="forbid")

    tool: str
    arguments: dict[str, Any] | str = Field(default_factory=dict)
    reason: str = ""
    risk: str | None = None


class Approval(BaseModel):
    """A human's answer. `arguments`, when given with `approved=True`, replaces the
    model's arguments ("approve with edits"): they are validated against the tool's
    schema and checked by the policy again (a hard deny still wins) before the tool runs,
    and the model is told its call was edited."""

    model_config = ConfigDict(extra="forbid")

    approved: bool
    reason: str = ""
    arguments: dict[str, Any] | None = None


@runtime_checkable
class FeedbackProvider(Protocol):
    async def approve(self, request: ApprovalRequest) -> Approval: ...


class HeadlessFeedback:
    """No human around: every `ask` gets the configured answer (deny unless told)."""

    def __init__(self, answer: str = "deny") -> None:
        if answer not in ("deny", "allow"):
            raise ValueError("answer must be 'deny' or 'allow'")
        self.answer = answer

    async def approve(self, request: ApprovalRequest) -> Approval:
        ok = self.answer == "allow"
        return Approval(approved=ok, reason=f"headless run: ask treated as {self.answer}")


class CLIFeedback:
    """Asks on the terminal: ``Allow shell(command='git push')? [y/N]``."""

    def __init__(self, input_fn: Callable[[str], str] = input, output: Any = None) -> None:
        self.input_fn = input_fn
        self.output = output or sys.stderr

    async def approve(self, request: ApprovalRequest) -> Approval:
        print(
            f"\n[forgekit] the agent wants to run {request.tool}({request.arguments})",
            file=self.output,
        )
        if request.reason:
            print(f"[forgekit] policy: {request.reason}", file=self.output)
        try:
            answer = await asyncio.to_thread(self.input_fn, "Allow? [y/N/e(dit)] ")
            if answer.strip().lower() in ("e", "edit"):
                text = await asyncio.to_thread(self.input_fn, "Arguments as a JSON object: ")
                return _edited(text)
        except EOFError:
            return Approval(approved=False, reason="no answer (end of input)")
        ok = answer.strip().lower() in ("y", "yes")
        return Approval(
            approved=ok,
            reason="approved on the command line" if ok else "refused on the command line",
        )


def _edited(text: str) -> Approval:
    """The approval for arguments typed as JSON; anything else is a refusal that says why."""
    try:
        args = json.loads(text)
    except json.JSONDecodeError as e:
        return Approval(approved=False, reason=f"edited arguments are not valid JSON: {e}")
    if not isinstance(args, dict):
        return Approval(approved=False, reason="edited arguments must be a JSON object")
    return Approval(approved=True, reason="approved with edited arguments", arguments=args)


class CallbackFeedback:
    """Wraps a function `request -> bool | (bool, reason) | Approval` (sync or async)."""

    def __init__(self, fn: Callable[[ApprovalRequest], Any]) -> None:
        self.fn = fn

    async def approve(self, request: ApprovalRequest) -> Approval:
        out = self.fn(request)
        if inspect.isawaitable(out):
            out = await out
        if isinstance(out, Approval):
            return out
        if isinstance(out, tuple):
            return Approval(approved=bool(out[0]), reason=str(out[1]))
        return Approval(
            approved=bool(out), reason="approved by callback" if out else "refused by callback"
        )


def resolve_feedback(feedback: Any, ask_default: str = "deny") -> FeedbackProvider:
    """None → headless (policy's ask_default); "cli" → CLIFeedback; a function → callback."""
    if feedback is None or feedback == "headless":
        return HeadlessFeedback(ask_default)
    if feedback == "cli":
        return CLIFeedback()
    if isinstance(feedback, FeedbackProvider):
        return feedback
    if callable(feedback):
        return CallbackFeedback(feedback)
    raise TypeError(f"not a feedback provider: {feedback!r}")

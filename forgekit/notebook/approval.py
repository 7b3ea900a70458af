"""`ApprovalPrompt`: the notebook human-feedback provider (approve / reject / edit).

It is a `forgekit.agents` feedback provider (`async approve(request) -> Approval`): give
it to an agent (`feedback=prompt`) and every tool call the policy marks `ask` appears in
the widget until someone answers or the timeout passes (then `on_timeout` decides).

The agent must run in the background (`forgekit.notebook.run_in_background`): while a
cell is executing, the kernel does not process button clicks.

Example:
    >>> prompt = ApprovalPrompt(timeout_s=120)                      # doctest: +SKIP
    >>> prompt                               # shows the pending requests
    >>> job = run_in_background(agent.arun(task, feedback=prompt))  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import threading
import time
from html import escape
from typing import TYPE_CHECKING, Any

from forgekit.notebook.live import LiveView

if TYPE_CHECKING:
    from forgekit.agents.feedback import Approval, ApprovalRequest

DECISIONS = ("approve", "reject", "edit")


def _approval_type() -> type[Approval]:
    from forgekit.agents.feedback import Approval

    return Approval


class _Pending:
    def __init__(self, pid: int, request: ApprovalRequest, timeout_s: float) -> None:
        self.id = pid
        self.request = request
        self.future: concurrent.futures.Future[Approval] = concurrent.futures.Future()
        self.asked_at = time.time()
        self.deadline = time.monotonic() + timeout_s


class ApprovalPrompt(LiveView):
    """Ask a human in the notebook.

    Args:
        timeout_s: how long a request waits for an answer.
        on_timeout: "deny" (default) or "allow" when nobody answers in time.
    """

    widget_name = "approval"

    def __init__(self, timeout_s: float = 300.0, on_timeout: str = "deny") -> None:
        super().__init__()
        if on_timeout not in ("deny", "allow"):
            raise ValueError("on_timeout must be 'deny' or 'allow'")
        self.timeout_s = timeout_s
        self.on_timeout = on_timeout
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.pending: list[_Pending] = []
        self.history: list[dict[str, Any]] = []

    # -- the provider interface ---------------------------------------------------------
    async def approve(self, request: ApprovalRequest) -> Approval:
        """Show `request` (an `ApprovalRequest`) and wait for a decision or the timeout."""
        with self._lock:
            p = _Pending(next(self._ids), request, self.timeout_s)
            self.pending.append(p)
        self.refresh(force=True)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(p.future), self.timeout_s)
        except TimeoutError:
            ok = self.on_timeout == "allow"
            answer = _approval_type()(
                approved=ok,
                reason=f"no answer within {self.timeout_s:g}s; {self.on_timeout} by default",
            )
            self._close(p, "timeout", answer)
            return answer

    def approve_sync(self, request: ApprovalRequest) -> Approval:
        """Blocking form, for code that is not async (never call it in a notebook cell)."""
        from forgekit.core.sync import run_sync

        return run_sync(self.approve(request))

    # -- answering ----------------------------------------------------------------------
    def decide(
        self,
        decision: str,
        *,
        request_id: int | None = None,
        arguments: dict[str, Any] | str | None = None,
        reason: str = "",
    ) -> Approval:
        """Answer a pending request (the oldest unless `request_id`), as the buttons do.

        `decision` is "approve", "reject" or "edit" (approve with `arguments` instead of
        the model's; needs an `Approval` that carries arguments).
        """
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
        with self._lock:
            match = [p for p in self.pending if request_id is None or p.id == request_id]
        if not match:
            raise LookupError("no pending request" + (f" {request_id}" if request_id else ""))
        p = match[0]
        approval_cls = _approval_type()
        if decision == "edit":
            edited: object = arguments
            if isinstance(arguments, str):
                try:
                    edited = json.loads(arguments)
                except ValueError as e:
                    raise ValueError(f"edited arguments are not valid JSON: {e}") from e
            if edited is not None and not isinstance(edited, dict):
                raise ValueError(
                    f"edited arguments must be a JSON object, not {type(edited).__name__}"
                )
            answer = approval_cls(
                approved=True,
                arguments=edited,
                reason=reason or "approved with edited arguments in the notebook",
            )
        else:
            ok = decision == "approve"
            answer = approval_cls(
                approved=ok,
                reason=reason or ("approved in the notebook" if ok else "rejected in the notebook"),
            )
        self._close(p, decision, answer)
        return answer

    def _close(self, p: _Pending, decision: str, answer: Approval) -> None:
        with self._lock:
            if p in self.pending:
                self.pending.remove(p)
            self.history.append(
                {
                    "id": p.id,
                    "tool": getattr(p.request, "tool", ""),
                    "decision": decision,
                    "reason": answer.reason,
                }
            )
        if not p.future.done():
            p.future.set_result(answer)
        self.refresh(force=True)

    def handle(self, message: dict[str, Any]) -> None:
        if message.get("action") == "decide":
            self.decide(
                str(message.get("decision")),
                request_id=message.get("id"),
                arguments=message.get("arguments"),
                reason=message.get("reason") or "",
            )

    # -- views --------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        with self._lock:
            pending = [
                {
                    "id": p.id,
                    "tool": getattr(p.request, "tool", str(p.request)),
                    "arguments": json.dumps(
                        getattr(p.request, "arguments", {}), indent=1, default=str
                    ),
                    "reason": getattr(p.request, "reason", ""),
                    "risk": getattr(p.request, "risk", None),
                    "seconds_left": max(0.0, p.deadline - time.monotonic()),
                }
                for p in self.pending
            ]
            history = self.history[-20:]
        return {
            "pending": pending,
            "history": history,
            "timeout_s": self.timeout_s,
            "on_timeout": self.on_timeout,
            "can_edit": True,  # read by the widget: an edit runs the edited arguments
        }

    def html(self) -> str:
        s = self.state()
        rows = "".join(
            f"<li>{escape(p['tool'])}({escape(p['arguments'])}) — {escape(p['reason'])}</li>"
            for p in s["pending"]
        )
        hist = "".join(
            f"<li>{escape(h['tool'])}: {escape(h['decision'])}</li>" for h in s["history"]
        )
        return (
            f"<div class='fk-static-approval'><b>approval prompt</b>: "
            f"{len(s['pending'])} pending (answer in a live notebook)<ul>{rows}</ul>"
            f"<ul>{hist}</ul></div>"
        )

    def __repr__(self) -> str:
        return (
            f"ApprovalPrompt(pending={len(self.pending)}, answered={len(self.history)}, "
            f"timeout_s={self.timeout_s:g})"
        )

"""ApprovalPrompt: a forgekit.agents feedback provider answered from the widget."""

from __future__ import annotations

import asyncio
import threading

import pytest

from forgekit.agents.feedback import ApprovalRequest, FeedbackProvider, resolve_feedback
from forgekit.notebook import ApprovalPrompt, run_in_background


def _wait_pending(prompt: ApprovalPrompt, n: int = 1) -> None:
    done = threading.Event()
    for _ in range(500):
        if len(prompt.pending) >= n:
            return
        done.wait(0.01)
    raise AssertionError("no pending request appeared")


def test_is_a_feedback_provider() -> None:
    prompt = ApprovalPrompt()
    assert isinstance(prompt, FeedbackProvider)
    assert resolve_feedback(prompt) is prompt


def test_approve_and_reject_from_front_end_messages() -> None:
    prompt = ApprovalPrompt(timeout_s=30)
    widget = prompt.widget
    req = ApprovalRequest(tool="shell", arguments={"command": "git push"}, reason="network")
    job = run_in_background(prompt.approve(req))  # the agent waits off the kernel thread
    _wait_pending(prompt)
    pending = widget.data["pending"]
    assert pending[0]["tool"] == "shell" and "git push" in pending[0]["arguments"]
    prompt._on_msg(widget, {"action": "decide", "id": pending[0]["id"], "decision": "approve"}, [])
    answer = job.result(timeout=10)
    assert answer.approved and "notebook" in answer.reason
    assert widget.data["pending"] == [] and widget.data["history"][0]["decision"] == "approve"

    job = run_in_background(prompt.approve(req))
    _wait_pending(prompt)
    prompt._on_msg(widget, {"action": "decide", "decision": "reject", "reason": "no"}, [])
    answer = job.result(timeout=10)
    assert not answer.approved and answer.reason == "no"


def test_timeout_uses_the_default() -> None:
    prompt = ApprovalPrompt(timeout_s=0.2)
    answer = asyncio.run(prompt.approve(ApprovalRequest(tool="rm")))
    assert not answer.approved and "no answer within 0.2s" in answer.reason
    assert prompt.history[-1]["decision"] == "timeout" and not prompt.pending
    allow = ApprovalPrompt(timeout_s=0.1, on_timeout="allow")
    assert asyncio.run(allow.approve(ApprovalRequest(tool="ls"))).approved


def test_an_edit_carries_the_edited_arguments() -> None:
    prompt = ApprovalPrompt(timeout_s=10)
    job = run_in_background(prompt.approve(ApprovalRequest(tool="write", arguments={"p": 1})))
    _wait_pending(prompt)
    assert prompt.state()["can_edit"] is True
    with pytest.raises(ValueError, match="must be a JSON object, not list"):
        prompt.decide("edit", arguments="[2]")  # and the request stays pending
    with pytest.raises(ValueError, match="not valid JSON"):
        prompt.decide("edit", arguments="{p: 2")
    answer = prompt.decide("edit", arguments='{"p": 2}')
    assert answer.approved and answer.arguments == {"p": 2}
    job.result(timeout=10)

"""History processors: a discriminated union from config; each keeps tool pairs valid."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from forgekit.agents import apply_history, parse_history
from forgekit.core.messages import Message, ToolCall


def _conv(n: int) -> list[Message]:
    msgs = [Message.system("sys"), Message.user("task")]
    for i in range(n):
        msgs.append(
            Message.assistant(
                None, [ToolCall(id=f"c{i}", name="read_file", arguments={"path": f"f{i % 2}"})]
            )
        )
        msgs.append(Message.tool(f"content {i} " + "x" * 400, f"c{i}", "read_file"))
    return msgs


def _valid(msgs: list[Message]) -> bool:
    ids = set()
    for m in msgs:
        ids |= {tc.id for tc in m.tool_calls or []}
        if m.role == "tool" and m.tool_call_id not in ids:
            return False
    return True


def test_parse_from_config_and_typos_fail():
    procs = parse_history(
        [{"type": "last_n_observations", "n": 2}, {"type": "remove_regex", "patterns": ["x+"]}]
    )
    assert [p.type for p in procs] == ["last_n_observations", "remove_regex"]
    with pytest.raises(ValidationError):
        parse_history([{"type": "last_n_observations", "m": 2}])
    with pytest.raises(ValidationError):
        parse_history([{"type": "nope"}])


def test_last_n_and_stale_views_and_regex():
    msgs = _conv(4)
    out = apply_history(parse_history([{"type": "last_n_observations", "n": 1}]), msgs)
    tools = [m.content for m in out if m.role == "tool"]
    assert sum("elided" in t for t in tools) == 3 and tools[-1].startswith("content 3")
    out = apply_history(parse_history([{"type": "drop_stale_file_views"}]), msgs)
    tools = [m.content for m in out if m.role == "tool"]
    assert tools[0].startswith("[stale view of f0") and tools[2].startswith("content 2")
    out = apply_history(parse_history([{"type": "remove_regex", "patterns": ["x{10,}"]}]), msgs)
    assert out[3].content == "content 0 "
    assert msgs[3].content.endswith("x")  # the input is not changed


def test_token_budget_and_head_and_tail_keep_pairs():
    msgs = _conv(10)
    out = apply_history(parse_history([{"type": "token_budget", "max_tokens": 150}]), msgs)
    assert out[0].role == "system" and out[1].content == "task"
    assert len(out) < len(msgs) and _valid(out)
    out = apply_history(parse_history([{"type": "head_and_tail", "head": 2, "tail": 3}]), msgs)
    assert out[0].role == "system" and "omitted" in out[2].content and _valid(out)
    assert out[-1].content.startswith("content 9")

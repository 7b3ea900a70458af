"""Text fallback parsing: fenced blocks, tags, bare JSON, repairs, errors."""

from __future__ import annotations

from forgekit.agents import parse_text_tool_calls


def test_fenced_json_block():
    calls, errors = parse_text_tool_calls(
        'I will add.\n```json\n{"tool": "add", "arguments": {"a": 1, "b": 2}}\n```'
    )
    assert [(c.name, c.arguments) for c in calls] == [("add", {"a": 1, "b": 2})] and not errors


def test_variants_and_repairs():
    text = (
        "```\n{'name': 'add', 'args': {'a': 1, 'b': 2,},}\n```\n"
        '<tool_call>{"function": {"name": "mul", "arguments": "{\\"a\\": 3}"}}</tool_call>'
    )
    calls, errors = parse_text_tool_calls(text)
    assert [(c.name, c.arguments) for c in calls] == [("add", {"a": 1, "b": 2}), ("mul", {"a": 3})]
    assert len({c.id for c in calls}) == 2
    calls, _ = parse_text_tool_calls('Sure: {"tool": "read_file", "arguments": {"path": "a"}} ok')
    assert calls[0].name == "read_file"
    calls, _ = parse_text_tool_calls('[{"tool": "a", "arguments": {}}, {"tool": "b"}]')
    assert [c.name for c in calls] == ["a", "b"]


def test_malformed_and_plain_text():
    calls, errors = parse_text_tool_calls('```json\n{"tool": "add", "arguments": {"a": 1\n```')
    assert calls == [] and "could not parse" in errors[0]
    calls, errors = parse_text_tool_calls("The answer is 42.")
    assert calls == [] and errors == []
    calls, errors = parse_text_tool_calls('```json\n{"arguments": {"a": 1}}\n```')
    assert calls == [] and "without a tool name" in errors[0]


def test_nested_objects_in_prose_are_not_read_as_extra_calls():
    text = (
        'Calling {"tool": "greet", "arguments": {"name": "Bob"}} and '
        "{'tool': 'greet', 'arguments': {'name': 'Ann',}} now"
    )
    calls, errors = parse_text_tool_calls(text)
    assert [(c.name, c.arguments) for c in calls] == [
        ("greet", {"name": "Bob"}),
        ("greet", {"name": "Ann"}),
    ]
    assert errors == []

"""Text fallback for models without native function calling.

The tools are described in the prompt (template `text_tools.j2`) and the model answers
with a JSON object, usually in a fenced block. `parse_text_tool_calls` finds such calls
robustly: fenced ```json blocks, `<tool_call>` tags, or bare JSON objects in prose; common
key spellings (`tool`/`name`/`function`, `arguments`/`args`/`parameters`); single quotes,
trailing commas and Python literals repaired. What looks like a call but cannot be read
becomes an error message for the model, never an exception.
"""

from __future__ import annotations

import json
import re
from typing import Any

from forgekit.core.messages import ToolCall

_FENCE = re.compile(r"```[ \t]*([A-Za-z_]*)[ \t]*\n?(.*?)```", re.S)
_TAG = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.S)
_NAME_KEYS = ("tool", "name", "tool_name", "function", "action")
_ARG_KEYS = ("arguments", "args", "parameters", "input", "action_input", "params")


def _repair(text: str) -> str:
    text = re.sub(r",\s*([}\]])", r"\1", text)  # trailing commas
    text = re.sub(r"\bTrue\b", "true", text)
    text = re.sub(r"\bFalse\b", "false", text)
    text = re.sub(r"\bNone\b", "null", text)
    if "'" in text and '"' not in text:
        text = text.replace("'", '"')
    return text


def _loads(text: str) -> Any:
    text = text.strip()
    for candidate in (text, _repair(text)):
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            pass
    # the first JSON value in the text (prose around it)
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start >= 0:
        dec = json.JSONDecoder()
        for candidate in (text[start:], _repair(text[start:])):
            try:
                return dec.raw_decode(candidate)[0]
            except json.JSONDecodeError:
                pass
    raise ValueError("not valid JSON")


def _bare_objects(text: str) -> list[Any]:
    """Top-level JSON objects embedded in prose (objects nested in one are not re-read)."""
    out: list[Any] = []
    dec = json.JSONDecoder()
    i = 0
    while (i := text.find("{", i)) >= 0:
        try:
            obj, end = dec.raw_decode(text, i)
        except json.JSONDecodeError:
            # a repaired copy of the rest (single quotes, trailing commas, Python literals)
            try:
                obj, _ = dec.raw_decode(_repair(text[i:]))
            except json.JSONDecodeError:
                i += 1
                continue
            out.append(obj)
            i = _matching_brace(text, i)
            continue
        out.append(obj)
        i = end
    return out


def _matching_brace(text: str, i: int) -> int:
    """The index after the brace that closes the one at `i` (quotes respected)."""
    depth, quote = 0, ""
    for j in range(i, len(text)):
        c = text[j]
        if quote:
            if c == quote and text[j - 1] != "\\":
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(text)


def _as_call(obj: Any, n: int) -> ToolCall | str | None:
    """A ToolCall, an error string, or None when `obj` does not look like a call."""
    if not isinstance(obj, dict):
        return None
    fn = obj.get("function")
    if isinstance(fn, dict):  # OpenAI shape
        obj = {"name": fn.get("name"), "arguments": fn.get("arguments", {})}
    name = next((obj[k] for k in _NAME_KEYS if isinstance(obj.get(k), str)), None)
    args_key = next((k for k in _ARG_KEYS if k in obj), None)
    if name is None:
        return None if args_key is None else "a tool call without a tool name"
    args: Any = (
        obj.get(args_key, {}) if args_key else {k: v for k, v in obj.items() if k not in _NAME_KEYS}
    )
    if isinstance(args, str):
        try:
            args = _loads(args)
        except ValueError:
            pass
    if args is None:
        args = {}
    return ToolCall(
        id=f"text_call_{n}",
        name=name,
        arguments=args if isinstance(args, dict) else json.dumps(args),
    )


def parse_text_tool_calls(text: str) -> tuple[list[ToolCall], list[str]]:
    """Tool calls found in a model's text, and errors for call-like text that failed."""
    calls: list[ToolCall] = []
    errors: list[str] = []
    blocks = [(lang, body) for lang, body in _FENCE.findall(text)]
    blocks += [("tool_call", body) for body in _TAG.findall(text)]
    objects: list[Any] = []
    if blocks:
        for lang, body in blocks:
            if lang and lang.lower() not in ("json", "tool", "tool_call", "javascript", "js"):
                continue
            try:
                objects.append(_loads(body))
            except ValueError:
                if lang or re.search(r'"(tool|name)"\s*:', body):
                    errors.append(f"could not parse the tool call block as JSON: {body[:200]!r}")
    else:
        objects = _bare_objects(text)
    for obj in objects:
        for item in obj if isinstance(obj, list) else [obj]:
            call = _as_call(item, len(calls))
            if isinstance(call, ToolCall):
                calls.append(call)
            elif isinstance(call, str):
                errors.append(call)
    return calls, errors

"""History processors: a configurable pipeline applied to the messages before each model
call (the record keeps everything; only what the model sees is trimmed).

Each processor is a pydantic model with a ``type`` discriminator and ``extra="forbid"``,
so a list of them reads from YAML and a typo is an error::

    history:
      - {type: last_n_observations, n: 3}
      - {type: drop_stale_file_views}
      - {type: token_budget, max_tokens: 3000}
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from forgekit.core.component import register_component
from forgekit.core.messages import Message


def approx_tokens(messages: list[Message]) -> int:
    """A cheap token estimate (4 characters a token) used for trimming."""
    total = 0
    for m in messages:
        total += len(m.content or "") // 4 + 4
        for tc in m.tool_calls or []:
            total += len(tc.arguments_json()) // 4 + 4
    return total


def _call_index(messages: list[Message]) -> dict[str, tuple[str, Any]]:
    out: dict[str, tuple[str, Any]] = {}
    for m in messages:
        for tc in m.tool_calls or []:
            out[tc.id] = (tc.name, tc.arguments)
    return out


def _replace(m: Message, content: str) -> Message:
    return m.model_copy(update={"content": content})


class _Processor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def __call__(self, messages: list[Message]) -> list[Message]:
        raise NotImplementedError


class LastNObservations(_Processor):
    """Keep the last `n` tool observations whole; older ones are elided."""

    type: Literal["last_n_observations"] = "last_n_observations"
    n: int = Field(default=5, ge=0)

    def __call__(self, messages: list[Message]) -> list[Message]:
        tool_idx = [i for i, m in enumerate(messages) if m.role == "tool"]
        old = set(tool_idx[: -self.n] if self.n else tool_idx)
        return [
            _replace(m, f"[older observation elided: {len(m.content or '')} characters]")
            if i in old
            else m
            for i, m in enumerate(messages)
        ]


class DropStaleFileViews(_Processor):
    """When the same file was read more than once, only the latest view is kept."""

    type: Literal["drop_stale_file_views"] = "drop_stale_file_views"
    tools: list[str] = Field(default_factory=lambda: ["read_file"])
    path_arg: str = "path"

    def __call__(self, messages: list[Message]) -> list[Message]:
        calls = _call_index(messages)
        latest: dict[str, int] = {}
        keys: dict[int, str] = {}
        for i, m in enumerate(messages):
            if m.role == "tool" and m.tool_call_id in calls:
                name, args = calls[m.tool_call_id]
                if name in self.tools and isinstance(args, dict):
                    key = str(args.get(self.path_arg))
                    latest[key] = i
                    keys[i] = key
        return [
            _replace(m, f"[stale view of {keys[i]} elided; a newer one follows]")
            if i in keys and latest[keys[i]] != i
            else m
            for i, m in enumerate(messages)
        ]


_MessageRole = Literal["system", "user", "assistant", "tool"]
_TOOL_AND_ASSISTANT: list[_MessageRole] = ["tool", "assistant"]


class RemoveRegex(_Processor):
    """Remove every match of the patterns from message contents (e.g. ANSI codes)."""

    type: Literal["remove_regex"] = "remove_regex"
    patterns: list[str]
    roles: list[_MessageRole] = Field(default_factory=lambda: _TOOL_AND_ASSISTANT.copy())

    def __call__(self, messages: list[Message]) -> list[Message]:
        rxs = [re.compile(p) for p in self.patterns]
        out = []
        for m in messages:
            if m.role in self.roles and m.content:
                text = m.content
                for rx in rxs:
                    text = rx.sub("", text)
                m = _replace(m, text)
            out.append(m)
        return out


def _rounds(messages: list[Message]) -> list[list[int]]:
    """Indices grouped so an assistant tool call stays with its tool answers."""
    groups: list[list[int]] = []
    for i, m in enumerate(messages):
        if m.role == "tool" and groups:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


class TokenBudget(_Processor):
    """Trim to about `max_tokens`: elide old observations first, then drop the oldest
    rounds (the system prompt and the first user message always stay)."""

    type: Literal["token_budget"] = "token_budget"
    max_tokens: int = Field(gt=0)

    def __call__(self, messages: list[Message]) -> list[Message]:
        msgs = list(messages)
        for i, m in enumerate(msgs):
            if approx_tokens(msgs) <= self.max_tokens:
                return msgs
            if m.role == "tool" and i < len(msgs) - 1:
                msgs[i] = _replace(m, "[observation elided to fit the token budget]")
        groups = _rounds(msgs)
        keep_head = [g for g in groups[:2] if msgs[g[0]].role in ("system", "user")]
        rest = groups[len(keep_head) :]
        while (
            rest[:-1]
            and approx_tokens([msgs[i] for g in keep_head + rest for i in g]) > self.max_tokens
        ):
            rest.pop(0)
        return [msgs[i] for g in keep_head + rest for i in g]


class HeadAndTail(_Processor):
    """Keep the first `head` and the last `tail` messages (tool pairs kept whole), with
    a note where the middle was cut."""

    type: Literal["head_and_tail"] = "head_and_tail"
    head: int = Field(default=2, ge=0)
    tail: int = Field(default=6, ge=1)

    def __call__(self, messages: list[Message]) -> list[Message]:
        if len(messages) <= self.head + self.tail:
            return list(messages)
        groups = _rounds(messages)
        head: list[list[int]] = []
        n = 0
        while groups and n < self.head:
            g = groups.pop(0)
            head.append(g)
            n += len(g)
        tail: list[list[int]] = []
        n = 0
        while groups and n < self.tail:
            g = groups.pop()
            tail.insert(0, g)
            n += len(g)
        if not groups:
            return list(messages)
        cut = sum(len(g) for g in groups)
        note = Message.user(f"[{cut} earlier messages omitted]")
        return (
            [messages[i] for g in head for i in g] + [note] + [messages[i] for g in tail for i in g]
        )


HistoryProcessor = Annotated[
    LastNObservations | DropStaleFileViews | RemoveRegex | TokenBudget | HeadAndTail,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[list[HistoryProcessor]] = TypeAdapter(list[HistoryProcessor])


def parse_history(data: Sequence[dict[str, Any] | _Processor]) -> list[HistoryProcessor]:
    """Processors from config dicts (or already-built processors)."""
    return _ADAPTER.validate_python(
        [d.model_dump() if isinstance(d, _Processor) else d for d in data]
    )


def apply_history(processors: list[HistoryProcessor], messages: list[Message]) -> list[Message]:
    for p in processors:
        messages = p(messages)
    return messages


for _cls in (LastNObservations, DropStaleFileViews, RemoveRegex, TokenBudget, HeadAndTail):
    register_component(
        _cls, type=_cls.model_fields["type"].default, kind="history"
    )

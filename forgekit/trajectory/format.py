"""The on-disk format of one run: JSON lines, one event a line, messages content-addressed.

Every line is one JSON object. Event lines are the events of `forgekit.core.events`, as
`model_dump(mode="json")` gives them, with one change: a `model_call` line holds
`message_refs` (a list of hashes) instead of `messages`. The messages themselves are
written once per file, on `blob` lines (`{"type": "blob", "hash": ..., "message": {...}}`)
placed before the first line that refers to them. When a request extends an earlier
request of the same run (an agent loop appending to its conversation), the line says so
with `"messages_from": {"seq": S, "count": K}` (the first K messages of call S) and lists
only the new hashes. A 200-step agent therefore stores each message once and each request
as a delta: the file grows linearly with the conversation, not quadratically.

Secrets are redacted from the serialised text before it is hashed or written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forgekit.core.events import Event, ModelCall, parse_event
from forgekit.core.messages import Message
from forgekit.core.redact import REDACTED, redact_text, secret_values

FORMAT_VERSION = 1
BLOB = "blob"


_lines_cache: tuple[list[str], list[str]] | None = None


def secrets_for_lines(env: dict[str, str] | None = None) -> list[str]:
    """Secret values to redact from JSON text: raw and JSON-escaped forms, longest first.

    The result is shared while the environment's secrets are unchanged: do not mutate it.
    """
    global _lines_cache
    values = secret_values(env)
    if _lines_cache is not None and _lines_cache[0] is values:
        return _lines_cache[1]
    out: set[str] = set()
    for s in values:
        out.add(s)
        out.add(json.dumps(s, ensure_ascii=False)[1:-1])
    lines = sorted(out, key=len, reverse=True)
    _lines_cache = (values, lines)
    return lines


# one encoder for every line (`json.dumps` with options builds a new one per call)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def _message_data(m: Message) -> dict[str, Any]:
    """`m.model_dump(mode="json", exclude_none=True)`, built directly for the common
    message without tool calls (the same keys in the same order: the blob's text, and so
    its hash, do not change)."""
    if m.tool_calls is not None or type(m) is not Message:
        return m.model_dump(mode="json", exclude_none=True)
    out: dict[str, Any] = {"role": m.role}
    if m.content is not None:
        out["content"] = m.content
    if m.tool_call_id is not None:
        out["tool_call_id"] = m.tool_call_id
    if m.name is not None:
        out["name"] = m.name
    return out


def message_hash(text: str) -> str:
    """The content address of one message (its redacted canonical JSON)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


class LineEncoder:
    """Turns events into JSON lines for one run file, remembering which blobs it wrote."""

    RECENT = 8  # earlier requests considered as the base of a new one

    def __init__(self, secrets: list[str] | None = None) -> None:
        self.secrets = secrets_for_lines() if secrets is None else secrets
        self.written: set[str] = set()
        self.seen: dict[tuple, str] = {}
        self.recent: list[tuple[int, list[str]]] = []

    def _clean(self, text: str) -> str:
        return redact_text(text, self.secrets)

    def encode(self, event: Event) -> str:
        """The text to append for `event` (blob lines first, then the event), newline-ended."""
        if not isinstance(event, ModelCall):
            return self._clean(event.model_dump_json()) + "\n"
        lines: list[str] = []
        refs: list[str] = []
        for m in event.messages:
            # a message seen before in this run is not serialised again (agent loops resend
            # the whole conversation at every step)
            key = None if m.tool_calls else (m.role, m.content, m.tool_call_id, m.name)
            h = self.seen.get(key) if key is not None else None
            if h is None:
                body = self._clean(_dumps(_message_data(m)))
                h = message_hash(body)
                if key is not None:
                    self.seen[key] = h
                if h not in self.written:
                    self.written.add(h)
                    lines.append(f'{{"type":"{BLOB}","hash":"{h}","message":{body}}}')
            refs.append(h)
        base_seq, count = -1, 0
        for seq, prev in self.recent:
            if count < len(prev) <= len(refs) and refs[: len(prev)] == prev:
                base_seq, count = seq, len(prev)
        # the event's own fields as pydantic writes them (in Rust: a quarter of the cost
        # of a dict and json.dumps), then the references appended before the closing brace
        tail = '"message_refs":[' + ",".join(f'"{h}"' for h in refs[count:]) + "]}"
        if count:
            tail = f'"messages_from":{{"seq":{base_seq},"count":{count}}},' + tail
        data = event.model_dump_json(exclude={"messages"})
        self.recent = [*self.recent[-(self.RECENT - 1) :], (event.seq, refs)]
        lines.append(self._clean(f"{data[:-1]},{tail}"))
        return "\n".join(lines) + "\n"


@dataclass
class RawRun:
    """A run file as JSON dicts: events in order (model calls keep `message_refs`), blobs,
    and what was wrong with the file."""

    path: Path
    events: list[dict[str, Any]] = field(default_factory=list)
    blobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    truncated: bool = False

    full_refs: dict[int, list[str]] = field(default_factory=dict)

    def refs_of(self, obj: dict[str, Any]) -> list[str]:
        """The full list of message hashes of a model-call line (deltas resolved; lines
        must be resolved in file order)."""
        refs = list(obj.get("message_refs") or [])
        base = obj.get("messages_from")
        if base:
            prev = self.full_refs.get(base["seq"])
            if prev is None:
                self.warnings.append(
                    f"{self.path}: model call seq={obj.get('seq')} extends "
                    f"unknown call seq={base['seq']}"
                )
                prev = []
            refs = prev[: base["count"]] + refs
        self.full_refs[obj.get("seq", -1)] = refs
        return refs

    def messages(self, refs: list[str]) -> list[dict[str, Any]]:
        out = []
        for h in refs:
            m = self.blobs.get(h)
            if m is None:
                self.warnings.append(f"{self.path}: model call refers to missing message {h}")
                m = {"role": "user", "content": f"[missing message {h}]"}
            out.append(m)
        return out


def read_raw(path: str | Path) -> RawRun:
    """Read a run file. A truncated last line (a process killed mid-write) is skipped and
    reported; so is any other line that does not parse (with its line number)."""
    path = Path(path)
    data = path.read_bytes()
    raw = RawRun(path=path)
    lines = data.split(b"\n")
    last = len(lines) - 1
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict) or "type" not in obj:
                raise ValueError("not an event object")
        except ValueError as e:
            if i == last:  # no newline after it: the writer was stopped mid-line
                raw.truncated = True
                raw.warnings.append(
                    f"{path}:{i + 1}: truncated last line ({len(line)} bytes) skipped; "
                    "the process writing it stopped mid-write"
                )
            else:
                raw.warnings.append(f"{path}:{i + 1}: unreadable line skipped ({e})")
            continue
        if obj["type"] == BLOB:
            raw.blobs[obj["hash"]] = obj["message"]
        else:
            raw.events.append(obj)
    return raw


def to_event(raw: RawRun, obj: dict[str, Any]) -> Event:
    """One raw event dict as a typed event (messages rebuilt from their blobs)."""
    if obj.get("type") == "model_call" and (
        "message_refs" in obj or "messages_from" in obj or "messages" not in obj
    ):  # a line of an older writer may hold its messages inline: kept as they are
        obj = dict(obj)
        obj["messages"] = raw.messages(raw.refs_of(obj))
        obj.pop("message_refs", None)
        obj.pop("messages_from", None)
    return parse_event(obj)


__all__ = [
    "BLOB",
    "FORMAT_VERSION",
    "LineEncoder",
    "RawRun",
    "REDACTED",
    "message_hash",
    "read_raw",
    "secrets_for_lines",
    "to_event",
]

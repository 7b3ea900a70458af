"""Edge conditions: when does a graph follow an edge? They look at the *last output* of
the edge's source node (its `Answer`) — a structured field or a predicate — and never at
the conversation, so a word in the task prompt cannot fire them.

    Field("passed", equals=True)             # answer.data["passed"] (or the JSON reply's)
    Field("review.score", at_least=0.8)
    OutputMatches(r"^APPROVED\\b")            # a regex on the node's own final text only
    When("mypkg.checks:tests_pass")           # any function Answer -> bool, by reference
    ~Field("passed", equals=True)             # Not
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from forgekit.core.component import Component, resolve_ref
from forgekit.core.samples import Answer

_MISSING = object()


class Condition(Component):
    """Base class: `holds(answer)` says whether the edge is followed."""

    def holds(self, answer: Answer) -> bool:
        raise NotImplementedError

    def label(self) -> str:
        return type(self).__name__

    def __invert__(self) -> Condition:
        return Not(self)


def structured(answer: Answer) -> Any:
    """The structured part of an answer: its `data` (a model is dumped), else its text
    parsed as JSON (also inside a ```json fence), else None."""
    data = answer.data
    if data is not None:
        return data.model_dump() if hasattr(data, "model_dump") else data
    text = answer.text.strip()
    m = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if m:
        text = m.group(1).strip()
    try:
        return json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return None


def field_value(answer: Answer, path: str) -> Any:
    value: Any = structured(answer)
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


class Field(Condition, type="field", kind="condition"):
    """A structured field of the last output compared with a value: `equals`, `one_of`,
    `at_least` / `at_most`, or (with no comparison) truthiness. A missing field is False."""

    def __init__(self, path: str, *, equals: Any = _MISSING, one_of: list[Any] | None = None,
                 at_least: float | None = None, at_most: float | None = None) -> None:
        self.path = path
        self.equals = equals
        self.one_of = one_of
        self.at_least = at_least
        self.at_most = at_most

    def holds(self, answer: Answer) -> bool:
        v = field_value(answer, self.path)
        if v is _MISSING:
            return False
        if self.equals is not _MISSING and v != self.equals:
            return False
        if self.one_of is not None and v not in self.one_of:
            return False
        if self.at_least is not None or self.at_most is not None:
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                return False
            if self.at_least is not None and v < self.at_least:
                return False
            if self.at_most is not None and v > self.at_most:
                return False
            return True
        if self.equals is _MISSING and self.one_of is None:
            return bool(v)
        return True

    def label(self) -> str:
        if self.equals is not _MISSING:
            return f"{self.path} == {self.equals!r}"
        if self.one_of is not None:
            return f"{self.path} in {self.one_of!r}"
        if self.at_least is not None or self.at_most is not None:
            lo = f"{self.at_least} <= " if self.at_least is not None else ""
            hi = f" <= {self.at_most}" if self.at_most is not None else ""
            return f"{lo}{self.path}{hi}"
        return self.path


class OutputMatches(Condition, type="output_matches", kind="condition"):
    """A regular expression searched in the source node's own final text (not in the
    conversation, not in the task)."""

    def __init__(self, pattern: str, *, ignore_case: bool = False) -> None:
        self.pattern = pattern
        self.ignore_case = ignore_case
        self._re = re.compile(pattern, re.I if ignore_case else 0)

    def holds(self, answer: Answer) -> bool:
        return self._re.search(answer.text) is not None

    def label(self) -> str:
        return f"/{self.pattern}/"


class When(Condition, type="when", kind="condition"):
    """Any function of the last `Answer` returning a truthy value; give it as a function
    defined at the top level of a module or as its reference ``"module:function"``."""

    def __init__(self, fn: str | Callable[[Answer], Any]) -> None:
        self.fn = resolve_ref(fn, key="when.fn")
        if not callable(self.fn):
            raise TypeError(f"when: {fn!r} is not callable")

    def holds(self, answer: Answer) -> bool:
        return bool(self.fn(answer))

    def label(self) -> str:
        return getattr(self.fn, "__name__", "when")


class Not(Condition, type="not", kind="condition"):
    def __init__(self, condition: Condition) -> None:
        self.condition = condition

    def holds(self, answer: Answer) -> bool:
        return not self.condition.holds(answer)

    def label(self) -> str:
        return f"not {self.condition.label()}"


def as_condition(when: Any) -> Condition | None:
    """None, a Condition, a config dict, or a function of the Answer."""
    if when is None or isinstance(when, Condition):
        return when
    if isinstance(when, dict):
        from forgekit.core.component import build_component

        return build_component(when, kind="condition", where="edge.when")
    if callable(when) or isinstance(when, str):
        return When(when)
    raise TypeError(f"not an edge condition: {when!r}")

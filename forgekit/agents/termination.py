"""Termination conditions: when does an agent stop? Composable with ``|`` and ``&``.

    stop = MaxSteps(10) | TextMention("DONE") | (MaxTokens(4000) & Timeout(60))

A condition looks at the `AgentState` after each step and returns a reason string to
stop, or None. ``a | b`` stops when either does; ``a & b`` when both have fired (each
remembers that it fired until `reset`, which the agent calls at the start of every run).
Conditions are components: ``config()`` (also ``to_config()``) gives their data and
``condition_from_config()`` (or ``forgekit.core.component.build_component``) rebuilds them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from forgekit.core.component import Component, build_component, register_alias, resolve_ref
from forgekit.core.errors import ConfigError


@dataclass
class AgentState:
    """What the conditions see: counters and the latest step."""

    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    started: float = field(default_factory=time.monotonic)
    last_text: str = ""
    # (tool name, result text, error or None) of the latest step's tool calls
    last_results: list[tuple[str, str, str | None]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # one signature per step
    observations: list[str] = field(default_factory=list)
    final: bool = False  # the model answered without calling a tool

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started


class Termination(Component, kind="termination"):
    """Base class: subclasses implement `_check` (and `_params` for their repr)."""

    kind: str = ""

    def __init__(self) -> None:
        self._fired: str | None = None

    def check(self, state: AgentState) -> str | None:
        if self._fired is None:
            self._fired = self._check(state)
        return self._fired

    def _check(self, state: AgentState) -> str | None:
        raise NotImplementedError

    def reset(self) -> None:
        self._fired = None

    def _params(self) -> dict[str, Any]:
        return {}

    def to_config(self) -> dict[str, Any]:
        return self.config()

    def __or__(self, other: Termination) -> Termination:
        return AnyOf([self, other])

    def __and__(self, other: Termination) -> Termination:
        return AllOf([self, other])

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({params})"


class AnyOf(Termination, type="or"):
    kind = "or"

    def __init__(self, conditions: list[Termination]) -> None:
        super().__init__()
        flat: list[Termination] = []
        for c in conditions:
            # a | (b | c) is a | b | c, but an `&` group inside stays a group
            flat.extend(c.conditions if isinstance(c, AnyOf) and type(c) is type(self) else [c])
        self.conditions: list[Termination] = flat

    def check(self, state: AgentState) -> str | None:
        reasons = [c.check(state) for c in self.conditions]
        return next((r for r in reasons if r), None)

    def reset(self) -> None:
        for c in self.conditions:
            c.reset()

    def config_args(self) -> dict[str, Any]:
        return {"conditions": self.conditions}  # flattened: a | (b | c) is a | b | c

    def __repr__(self) -> str:
        return " | ".join(map(repr, self.conditions))


class AllOf(AnyOf, type="and"):
    kind = "and"

    def check(self, state: AgentState) -> str | None:
        reasons = [c.check(state) for c in self.conditions]
        return " and ".join(r for r in reasons if r) if all(reasons) else None

    def __repr__(self) -> str:
        return "(" + " & ".join(map(repr, self.conditions)) + ")"


class MaxSteps(Termination, type="max_steps"):
    kind = "max_steps"

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def _check(self, s: AgentState) -> str | None:
        return f"max_steps: reached {self.n} steps" if s.steps >= self.n else None

    def _params(self) -> dict[str, Any]:
        return {"n": self.n}


class MaxTokens(Termination, type="max_tokens"):
    kind = "max_tokens"

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def _check(self, s: AgentState) -> str | None:
        return f"max_tokens: used {s.tokens} >= {self.n} tokens" if s.tokens >= self.n else None

    def _params(self) -> dict[str, Any]:
        return {"n": self.n}


class MaxCost(Termination, type="max_cost"):
    """Stops once the run has spent `usd` dollars (a termination condition; the spending
    limit of a whole evaluation is `forgekit.Budget`)."""

    kind = "max_cost"

    def __init__(self, usd: float) -> None:
        super().__init__()
        self.usd = usd

    def _check(self, s: AgentState) -> str | None:
        return (
            f"max_cost: spent ${s.cost_usd:.6f} >= ${self.usd:g}"
            if s.cost_usd >= self.usd
            else None
        )

    def _params(self) -> dict[str, Any]:
        return {"usd": self.usd}


class Timeout(Termination, type="timeout"):
    kind = "timeout"

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def _check(self, s: AgentState) -> str | None:
        return (
            f"timeout: {s.elapsed_s:.1f}s >= {self.seconds:g}s"
            if s.elapsed_s >= self.seconds
            else None
        )

    def _params(self) -> dict[str, Any]:
        return {"seconds": self.seconds}


def hard_deadline_s(condition: Termination) -> float | None:
    """The seconds after which `condition` fires whatever else happens: the smallest
    `Timeout` reachable through `|` alone (under an `&` a timeout alone does not stop).
    The agent enforces it inside a step too, interrupting a slow model or tool call."""
    if isinstance(condition, Timeout):
        return condition.seconds
    if type(condition) is AnyOf:  # not AllOf, its subclass
        found = [t for c in condition.conditions if (t := hard_deadline_s(c)) is not None]
        return min(found) if found else None
    return None


class TextMention(Termination, type="text_mention"):
    kind = "text_mention"

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def _check(self, s: AgentState) -> str | None:
        return f"text_mention: the model said {self.text!r}" if self.text in s.last_text else None

    def _params(self) -> dict[str, Any]:
        return {"text": self.text}


class FunctionCallResult(Termination, type="function_call_result"):
    """Stops once the named tool returned without error (optionally containing `text`)."""

    kind = "function_call_result"

    def __init__(self, tool: str, text: str | None = None) -> None:
        super().__init__()
        self.tool = tool
        self.text = text

    def _check(self, s: AgentState) -> str | None:
        for name, result, error in s.last_results:
            if name == self.tool and error is None and (self.text is None or self.text in result):
                return f"function_call_result: {self.tool} returned"
        return None

    def _params(self) -> dict[str, Any]:
        return {"tool": self.tool, "text": self.text}


class StallDetected(Termination, type="stall"):
    """The same action `repeats` times in a row, or `no_progress` steps without a new
    observation."""

    kind = "stall"

    def __init__(self, repeats: int = 3, no_progress: int | None = None) -> None:
        super().__init__()
        self.repeats = repeats
        self.no_progress = no_progress

    def _check(self, s: AgentState) -> str | None:
        last = s.actions[-self.repeats :]
        if len(last) == self.repeats and last[0] and len(set(last)) == 1:
            return f"stall: the same action {last[0][:80]!r} {self.repeats} times in a row"
        if self.no_progress and len(s.observations) > self.no_progress:
            recent = s.observations[-self.no_progress :]
            earlier = set(s.observations[: -self.no_progress])
            if all(o in earlier for o in recent):
                return f"stall: no new observation in {self.no_progress} steps"
        return None

    def _params(self) -> dict[str, Any]:
        return {"repeats": self.repeats, "no_progress": self.no_progress}


class FinalAnswer(Termination, type="final_answer"):
    """The model answered without calling a tool (the agent's usual stop)."""

    kind = "final_answer"

    def _check(self, s: AgentState) -> str | None:
        return "final_answer: the model answered without a tool call" if s.final else None


class Predicate(Termination, type="predicate"):
    """A custom condition: a function of the state returning a truthy value to stop.
    Its config names the function by import reference (``"module:function"``); a config
    that only has a `name` rebuilds with ``condition_from_config(cfg, predicates=...)``."""

    kind = "predicate"

    def __init__(self, fn: Callable[[AgentState], Any] | str, name: str | None = None) -> None:
        super().__init__()
        self.fn = resolve_ref(fn, key="termination.fn")
        self.name = name or getattr(self.fn, "__name__", "predicate")

    def _check(self, s: AgentState) -> str | None:
        out = self.fn(s)
        if not out:
            return None
        return out if isinstance(out, str) else f"predicate: {self.name}"

    def _params(self) -> dict[str, Any]:
        return {"name": self.name}


# the old name of `MaxCost` (it clashed with `forgekit.Budget`, the spending limit)
Budget = MaxCost
register_alias("budget", "max_cost")


def condition_from_config(
    cfg: dict[str, Any], *, predicates: dict[str, Callable[[AgentState], Any]] | None = None
) -> Termination:
    """Rebuild a condition from its `config()`; `predicates` supplies functions for
    predicate configs saved by name only."""
    cfg = dict(cfg)
    kind = cfg.get("type")
    if kind in ("or", "and"):
        subs = [condition_from_config(c, predicates=predicates) for c in cfg["conditions"]]
        return AnyOf(subs) if kind == "or" else AllOf(subs)
    if kind == "predicate" and "fn" not in cfg:
        name = cfg.get("name")
        if not predicates or name not in predicates:
            raise ConfigError(
                f"predicate {name!r} is not registered: pass predicates={{name: function}}",
                key="termination",
            )
        return Predicate(predicates[name], name=name)
    return build_component(cfg, kind="termination", where="termination")

"""The scripted gateway of the unit tests: a real `Gateway` (budgets, records, retries)
whose every call is answered by a `ScriptedSource` (no model, no network), and builders of
the replies, tool calls and prompts the tests script against.

    gw, src = scripted_gateway([reply("4")])                 # alias `m`, the default
    gw, src = scripted_gateway(fn, aliases={"m": "scripted/m", "judge": "scripted/judge"})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from forgekit.core.config import AliasConfig, Price, load_config
from forgekit.core.messages import ModelResponse, ToolCall, Usage
from forgekit.models import Gateway, ScriptedSource

FREE = Price(input_per_1k=0.0, output_per_1k=0.0)


def scripted_gateway(
    script: Any,
    *,
    aliases: Sequence[str] | Mapping[str, str] = ("m",),
    root: str | Path | None = None,
    cycle: bool = False,
    delay_s: float = 0.0,
    cache: bool = False,
    **alias_fields: Any,
) -> tuple[Gateway, ScriptedSource]:
    """A gateway answering from `script` (see `ScriptedSource`) and its source.

    Args:
        script: replies in order, or a function of the request.
        aliases: alias names (each reaching model "openai/scripted") or name -> model;
            the first is the default alias.
        root: the project folder (`FORGEKIT_HOME`); default: the project of the cwd.
        cycle, delay_s: passed to `ScriptedSource`.
        cache: keep the response cache on (off: a scripted reply is never replayed).
        alias_fields: more `AliasConfig` fields for every alias; the price defaults to
            free, which keeps litellm's price map (a slow import) out of unit tests.
    """
    cfg = load_config(env={"FORGEKIT_HOME": str(root)} if root is not None else {})
    cfg.cache.enabled = cache
    alias_fields.setdefault("price", FREE)
    models = dict(aliases) if isinstance(aliases, Mapping) else dict.fromkeys(aliases, "openai/scripted")
    for name, model in models.items():
        cfg.models.aliases[name] = AliasConfig(model=model, **alias_fields)
    cfg.models.default = next(iter(models))
    src = ScriptedSource(script, cycle=cycle, delay_s=delay_s)
    return Gateway(cfg, source=src), src


def reply(text: str = "", *calls: ToolCall, tokens: int = 5) -> ModelResponse:
    """A model reply: text, tool calls, `tokens` tokens in and out."""
    return ModelResponse(
        text=text, tool_calls=list(calls), usage=Usage(input_tokens=tokens, output_tokens=tokens)
    )


def call(name: str, args: Any, id: str = "c1") -> ToolCall:
    """A tool call the model asks for."""
    return ToolCall(id=id, name=name, arguments=args)


def last_user(request: Any) -> str:
    """The text of the request's last user message."""
    return next((m.content or "" for m in reversed(request.messages) if m.role == "user"), "")

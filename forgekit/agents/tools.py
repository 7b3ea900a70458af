"""Tools: typed Python functions the model can call.

A plain function becomes a tool: its name, the first paragraph of its docstring as the
description, a JSON schema from its type hints (pydantic models allowed as arguments),
and argument validation through a pydantic model built from the signature.

    >>> def add(a: int, b: int = 0) -> int:
    ...     '''Add two integers.'''
    ...     return a + b
    >>> t = Tool.from_function(add)
    >>> t.to_openai()["function"]["parameters"]["required"]
    ['a']

A function may take a keyword parameter named ``env`` (a `ToolEnv`): the agent fills it
with the workspace, the policy, the run context and bundle options; it is not shown to the
model.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

# what a tool may do to the world; the policy presets key on it
Effect = Literal["read", "write", "exec", "none"]
_ENV_PARAM = "env"


@dataclass
class ToolEnv:
    """What a tool implementation may use: the confined workspace, the policy, the run."""

    workspace: Path
    policy: Any = None
    run: Any = None  # the RunContext, when called from an agent
    options: dict[str, Any] = field(default_factory=dict)
    sandbox: Any = None  # the SandboxConfig processes run under (None: the default)


class ToolError(Exception):
    """Raised by a tool to report a failure the model should see as an observation."""


def _doc_parts(doc: str | None) -> tuple[str, dict[str, str]]:
    """The description (text before `Args:`) and per-argument docs of a Google docstring."""
    if not doc:
        return "", {}
    doc = inspect.cleandoc(doc)
    head, _, rest = doc.partition("\nArgs:")
    args: dict[str, str] = {}
    if rest:
        for line in rest.splitlines():
            if re.match(r"^\S", line) and line.strip():  # next section (Returns:, ...)
                break
            m = re.match(r"^\s+(\w+)(?:\s*\([^)]*\))?:\s*(.*)$", line)
            if m:
                args[m.group(1)] = m.group(2).strip()
    return " ".join(head.split("\n\n")[0].split()), args


def _strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip_titles(v) for k, v in schema.items() if k != "title"}
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema


def parse_arguments(tool_name: str, arguments: dict[str, Any] | str) -> dict[str, Any]:
    """A tool call's arguments as a dict (the model may send JSON text); a ToolError that
    the model can act on when they are not a JSON object."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except json.JSONDecodeError as e:
            raise ToolError(
                f"arguments are not valid JSON ({e.msg}); send a JSON object "
                f"matching the schema of {tool_name}"
            ) from None
    if not isinstance(arguments, dict):
        raise ToolError(f"arguments of {tool_name} must be a JSON object")
    return arguments


class Tool:
    """One callable tool with an OpenAI function-calling schema."""

    def __init__(
        self,
        name: str,
        description: str,
        fn: Callable[..., Any],
        *,
        args_model: type[BaseModel],
        effect: Effect = "none",
        options: dict[str, Any] | None = None,
        bundle: str | None = None,
        path_args: list[str] | None = None,
        command_arg: str | None = None,
        code_arg: str | None = None,
    ) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]{0,63}", name):
            raise ValueError(f"invalid tool name {name!r}: use letters, digits, _ and -")
        self.name = name
        self.description = description
        self.fn = fn
        self.args_model = args_model
        self.effect: Effect = effect
        self.options = dict(options or {})
        self.bundle = bundle
        # which arguments the policy checks as paths / rates as shell commands / as code
        self.path_args = list(path_args or [])
        self.command_arg = command_arg
        self.code_arg = code_arg
        self._wants_env = _ENV_PARAM in inspect.signature(fn).parameters

    def __repr__(self) -> str:
        return f"Tool({self.name!r}, effect={self.effect!r})"

    def __component_config__(self) -> Any:
        """A config names a tool by the import reference of its function
        (``"package.module:function"``); ``as_tool`` takes that reference back."""
        from forgekit.core.component import ref_of

        return ref_of(self.fn, where=f"tools.{self.name}")

    @property
    def read_only(self) -> bool:
        return self.effect in ("read", "none")

    @classmethod
    def from_function(
        cls,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        effect: Effect = "none",
        options: dict[str, Any] | None = None,
        **kinds: Any,
    ) -> Tool:
        """Build a tool from a typed function (see the module docstring)."""
        hints = get_type_hints(fn)
        doc, arg_docs = _doc_parts(fn.__doc__)
        fields: dict[str, Any] = {}
        for pname, p in inspect.signature(fn).parameters.items():
            if pname == _ENV_PARAM or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            ann = hints.get(pname, Any)
            default = ... if p.default is inspect.Parameter.empty else p.default
            fields[pname] = (ann, Field(default, description=arg_docs.get(pname)))
        model = create_model(f"{fn.__name__}_args", __config__=ConfigDict(extra="forbid"), **fields)
        return cls(
            name or fn.__name__,
            description or doc or fn.__name__,
            fn,
            args_model=model,
            effect=effect,
            options=options,
            **kinds,
        )

    def parameters(self) -> dict[str, Any]:
        schema = _strip_titles(self.args_model.model_json_schema())
        schema.setdefault("properties", {})
        schema.setdefault("required", [])
        schema["additionalProperties"] = False
        return schema

    def to_openai(self) -> dict[str, Any]:
        """The tool in OpenAI function-calling format."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters(),
            },
        }

    def validate(self, arguments: dict[str, Any] | str) -> BaseModel:
        """Parse and validate arguments; raises ToolError with a message for the model."""
        arguments = parse_arguments(self.name, arguments)
        try:
            return self.args_model.model_validate(arguments)
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(map(str, err['loc'])) or '(args)'}: "
                f"{'unknown argument' if err['type'] == 'extra_forbidden' else err['msg']}"
                for err in e.errors()
            )
            raise ToolError(f"invalid arguments for {self.name}: {problems}") from None

    async def call(self, arguments: dict[str, Any] | str, env: ToolEnv | None = None) -> str:
        """Validate and run; the result as text. Sync functions run in a worker thread."""
        parsed = self.validate(arguments)
        # unset optional arguments are left out, so the function's own defaults apply
        kwargs = {
            k: getattr(parsed, k)
            for k in type(parsed).model_fields
            if k in parsed.model_fields_set or getattr(parsed, k) is not None
        }
        if self._wants_env:
            kwargs[_ENV_PARAM] = env or ToolEnv(workspace=Path.cwd())
            if env is not None and self.options:
                env.options = {**self.options, **env.options}
        if inspect.iscoroutinefunction(self.fn):
            result = await self.fn(**kwargs)
        else:
            result = await asyncio.to_thread(self.fn, **kwargs)
        return result_text(result)


def result_text(result: Any) -> str:
    """A tool's return value as the text the model sees."""
    if result is None:
        return ""
    if isinstance(result, str):
        return result
    if isinstance(result, BaseModel):
        return result.model_dump_json()
    try:
        return json.dumps(result, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(result)


def tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    effect: Effect = "none",
    **kinds: Any,
) -> Any:
    """Decorator form of `Tool.from_function`: ``@tool`` or ``@tool(effect="read")``;
    `kinds` may name `path_args`, `command_arg`, `code_arg` for the policy."""

    def wrap(f: Callable[..., Any]) -> Tool:
        return Tool.from_function(f, name=name, description=description, effect=effect, **kinds)

    return wrap(fn) if fn is not None else wrap


def as_tool(obj: Tool | Callable[..., Any] | str) -> Tool:
    """A Tool as is; an import reference ``"module:function"`` (from a config) or any
    other callable through `Tool.from_function`."""
    if isinstance(obj, str):
        from forgekit.core.component import resolve_ref

        obj = resolve_ref(obj, key="tools")
    if isinstance(obj, Tool):
        return obj
    if callable(obj):
        return Tool.from_function(obj)
    raise TypeError(f"not a tool or a function: {obj!r}")

"""YAML tool bundles: a folder with a `config.yaml` naming tools and their implementations.

    name: files
    description: Read and change files in the workspace.
    options: {max_bytes: 200000}
    tools:
      - name: read_file
        docstring: Read a text file from the workspace.
        effect: read
        implementation: forgekit.agents.toolkits.files:read_file   # module:function
        arguments:
          - {name: path, type: string, description: File path, required: true, kind: path}

An implementation is either ``module:function`` (called with the validated arguments and,
when it takes one, the `env`) or ``script: run.py`` (a file in the bundle folder, run with
the arguments as a JSON object in its first argv, in the workspace, in the OS sandbox like
every tool process; its stdout is the result). Bundles ship in
`forgekit/agents/bundles/<name>/`; `load_bundle` takes a shipped name or a folder path.
"""

from __future__ import annotations

import importlib
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from forgekit.agents.tools import Effect, Tool, ToolEnv, ToolError
from forgekit.core.errors import ConfigError
from forgekit.core.redact import redact_text
from forgekit.core.yamlfile import load_yaml, validate

_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}


class ArgumentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    type: Literal["string", "integer", "number", "boolean", "array", "object"] = "string"
    description: str = ""
    required: bool = False
    default: Any = None
    enum: list[Any] | None = None
    # what the policy does with it: a path to check, a command or code to rate
    kind: Literal["value", "path", "command", "code"] = "value"


class ToolSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    docstring: str
    arguments: list[ArgumentSpec] = Field(default_factory=list)
    effect: Effect = "none"
    implementation: str | None = None  # "module:function"
    script: str | None = None  # a file in the bundle folder

    @model_validator(mode="after")
    def _one_implementation(self) -> ToolSpec:
        if (self.implementation is None) == (self.script is None):
            raise ValueError("give exactly one of implementation (module:function) or script")
        if self.implementation is not None and ":" not in self.implementation:
            raise ValueError("implementation must look like 'package.module:function'")
        return self


class BundleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    options: dict[str, Any] = Field(default_factory=dict)
    tools: list[ToolSpec]


class Bundle:
    """A loaded bundle: its config, its folder and its tools."""

    def __init__(
        self,
        config: BundleConfig,
        folder: Path,
        tools: list[Tool],
        *,
        source: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.folder = folder
        self.tools = tools
        self.source = source or str(folder)  # the name or folder it was loaded from
        self.options = dict(options or {})  # the options given over the bundle's own

    def __component_config__(self) -> str | dict[str, Any]:
        """How a config names this bundle: its name or folder, with the options given."""
        return {"name": self.source, "options": self.options} if self.options else self.source

    @property
    def name(self) -> str:
        return self.config.name

    def __repr__(self) -> str:
        return f"Bundle({self.name!r}, tools={[t.name for t in self.tools]})"

    def to_openai(self) -> list[dict[str, Any]]:
        """The bundle's tools in OpenAI function-calling format."""
        return [t.to_openai() for t in self.tools]


def shipped_bundles() -> list[str]:
    """Names of the bundles shipped inside forgekit."""
    root = resources.files("forgekit.agents") / "bundles"
    return sorted(p.name for p in root.iterdir() if (p / "config.yaml").is_file())


def _folder(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.is_dir() and (p / "config.yaml").is_file():
        return p
    if p.name == "config.yaml" and p.is_file():
        return p.parent
    shipped = resources.files("forgekit.agents") / "bundles" / str(name_or_path)
    if (shipped / "config.yaml").is_file():
        return Path(str(shipped))
    raise ConfigError(
        f"no tool bundle {str(name_or_path)!r}: not a folder with config.yaml and "
        f"not a shipped bundle ({', '.join(shipped_bundles())})"
    )


def _args_model(spec: ToolSpec) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for a in spec.arguments:
        typ: Any = _TYPES[a.type]
        if a.enum:
            typ = Literal[tuple(a.enum)]
        if not a.required:
            typ = typ | None
        default = ... if a.required else a.default
        fields[a.name] = (typ, Field(default, description=a.description or None))
    return create_model(f"{spec.name}_args", __config__=ConfigDict(extra="forbid"), **fields)


def _import(ref: str, doc_error: Any) -> Any:
    module, _, attr = ref.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise doc_error(f"cannot import implementation {ref!r}: {e}") from None


def _script_runner(script: Path, timeout_s: float) -> Any:
    async def run_script(env: ToolEnv, **kwargs: Any) -> str:
        from forgekit.agents.toolkits.process import tool_sandbox

        cmd = [sys.executable, str(script)] if script.suffix == ".py" else [str(script)]
        sandbox = tool_sandbox(env, read_only=[script.parent])
        r = await sandbox.run([*cmd, json.dumps(kwargs)], timeout_s=timeout_s)
        if r.timed_out:
            raise ToolError(f"{script.name} timed out after {timeout_s:g}s")
        text = redact_text(r.output)
        if r.returncode:
            raise ToolError(f"{script.name} exited with {r.returncode}: {text[-2000:]}")
        return text

    return run_script


def load_bundle(name_or_path: str | Path, **options: Any) -> Bundle:
    """Load a bundle by shipped name (`files`, `shell`, `python`, `retrieval`) or folder.
    `options` override the bundle's `options:` (e.g. ``timeout_s=5``, ``search=fn``)."""
    folder = _folder(name_or_path)
    doc = load_yaml(folder / "config.yaml")
    cfg = validate(BundleConfig, doc)
    merged = {**cfg.options, **options}
    tools: list[Tool] = []
    for i, spec in enumerate(cfg.tools):

        def err(msg: str, i: int = i) -> ConfigError:
            return doc.error(msg, ("tools", i, "implementation"))

        if spec.implementation is not None:
            fn = _import(spec.implementation, err)
        else:
            assert spec.script is not None  # ToolSpec holds exactly one of the two
            script = (folder / spec.script).resolve()
            if not script.is_file():
                raise doc.error(
                    f"script {spec.script!r} not found in {folder}", ("tools", i, "script")
                )
            fn = _script_runner(script, float(merged.get("timeout_s", 30)))
        kinds = {a.kind: a.name for a in spec.arguments}
        tools.append(
            _BundleTool(
                spec.name,
                " ".join(spec.docstring.split()),
                fn,
                args_model=_args_model(spec),
                effect=spec.effect,
                options=merged,
                bundle=cfg.name,
                path_args=[a.name for a in spec.arguments if a.kind == "path"],
                command_arg=kinds.get("command"),
                code_arg=kinds.get("code"),
            )
        )
    return Bundle(cfg, folder, tools, source=str(name_or_path), options=options)


class _BundleTool(Tool):
    """A bundle tool: the bundle's options always reach the implementation's env."""

    async def call(self, arguments: dict[str, Any] | str, env: ToolEnv | None = None) -> str:
        env = env or ToolEnv(workspace=Path.cwd())
        env = ToolEnv(
            workspace=env.workspace,
            policy=env.policy,
            run=env.run,
            options={**self.options, **env.options},
            sandbox=env.sandbox,
        )
        return await super().call(arguments, env)

"""Roles: named, reusable agent set-ups written as YAML.

A role is a name, a description, a model alias (or a task class for the router), a
system prompt as a Jinja2 template, tool bundles, a policy preset, a termination
condition and history processors. `Role.agent()` builds the `Agent`; a role is also a
Solver (it runs its agent), so it can be a node of a graph or a step of a workflow.

    coder = load_role("coder")                       # shipped: planner coder reviewer researcher tester
    answer = coder.agent(model="local").run("Write add() in add.py", gw, workspace="ws")
    roles = available_roles()                         # shipped + the project's roles/*.yaml

A project adds or overrides roles with files in ``<project>/roles/<name>.yaml``:

    name: translator
    description: Translates text into French.
    model: local
    system_prompt: |
      You are {{ role.name }}: {{ role.description }}
    bundles: [files]
    policy: plan-readonly
    termination: {type: or, conditions: [{type: final_answer}, {type: max_steps, n: 4}]}
    history: [{type: last_n_observations, n: 3}]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from forgekit.agents.prompts import Prompt
from forgekit.core.component import Component
from forgekit.core.context import RunContext
from forgekit.core.errors import ConfigError
from forgekit.core.samples import Answer, Sample

if TYPE_CHECKING:
    from forgekit.agents.agent import Agent, ToolProvider
    from forgekit.agents.termination import Termination
    from forgekit.agents.tools import Tool

ROLES_DIR = "roles"  # the project's folder of role files


class RoleConfig(BaseModel):
    """One role as written in YAML."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$")
    description: str = ""
    model: str | None = None  # an alias; None: the run's model (or task_class routing)
    task_class: str | None = None
    system_prompt: str = ""  # a Jinja2 template; empty: forgekit's default agent prompt
    instructions: str | None = None
    bundles: list[str] = Field(default_factory=list)
    policy: str | None = None
    termination: dict[str, Any] | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)
    stop_word: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("termination")
    @classmethod
    def _termination_builds(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None:
            from forgekit.agents.termination import condition_from_config

            try:
                condition_from_config(v)  # a typo is an error at load, not at run
            except ConfigError as e:
                raise ValueError(e.detail) from None
        return v

    @field_validator("history")
    @classmethod
    def _history_parses(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from forgekit.agents.history import parse_history

        parse_history(v)
        return v


def role_prompt(role: RoleConfig) -> Prompt:
    """The role's template as an inline prompt that defines ``role`` (name, description)
    itself, so the agent's config holds it whole and rebuilds it exactly."""
    import json

    head = json.dumps({"name": role.name, "description": role.description})
    return Prompt.from_string("{% set role = " + head + " %}" + role.system_prompt)


class Role(Component, type="role", kind="role"):
    """A role (see the module docstring). Build it from a `RoleConfig`'s fields, or load
    one with `load_role`."""

    # kept as data on rebuild (they are the role's YAML, not objects to build)
    raw_args = frozenset({"termination", "history", "params"})

    def __init__(
        self,
        name: str,
        *,
        description: str = "",
        model: str | None = None,
        task_class: str | None = None,
        system_prompt: str = "",
        instructions: str | None = None,
        bundles: Sequence[str] = (),
        policy: str | None = None,
        termination: dict[str, Any] | None = None,
        history: Sequence[dict[str, Any]] = (),
        stop_word: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        try:
            self.spec = RoleConfig(
                name=name, description=description, model=model, task_class=task_class,
                system_prompt=system_prompt, instructions=instructions, bundles=list(bundles),
                policy=policy, termination=termination, history=list(history),
                stop_word=stop_word, params=dict(params or {}),
            )
        except Exception as e:  # pydantic or a termination/history ConfigError
            raise ConfigError(f"role {name!r}: {e}", key=f"roles.{name}") from e
        self.name = name
        self.description = description

    @classmethod
    def from_spec(cls, spec: RoleConfig) -> Role:
        return cls(**spec.model_dump(exclude_defaults=True))

    def __repr__(self) -> str:
        return f"Role({self.name!r}, model={self.spec.model!r}, bundles={self.spec.bundles})"

    def agent(self, *, model: str | None = None,
              tools: Sequence[Tool | str | Callable[..., Any] | ToolProvider] = (),
              feedback: Any = None, output_schema: type[BaseModel] | str | None = None,
              workspace: str | Path | None = None, termination: Termination | None = None,
              name: str | None = None) -> Agent:
        """The `Agent` this role describes; arguments override the role's settings (extra
        `tools` are added to the role's bundles: a handoff tool, for instance)."""
        from forgekit.agents.agent import Agent
        from forgekit.agents.termination import condition_from_config

        s = self.spec
        cond = termination
        if cond is None and s.termination is not None:
            cond = condition_from_config(s.termination)
        return Agent(
            model=model or s.model,
            tools=list(tools),
            bundles=list(s.bundles),
            policy=s.policy,
            termination=cond,
            history=list(s.history),
            system_prompt=role_prompt(s) if s.system_prompt else "system",
            instructions=s.instructions,
            feedback=feedback,
            output_schema=output_schema,
            workspace=workspace,
            stop_word=s.stop_word,
            name=name or s.name,
            params=dict(s.params),
        )

    def routed(self, sample: Sample) -> Sample:
        """`sample` with the role's task class (for the router) when the role names no model."""
        if self.spec.task_class and sample.task_class is None and self.spec.model is None:
            return sample.model_copy(update={"task_class": self.spec.task_class})
        return sample

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        """Run the role's agent on `sample` (a role is a Solver)."""
        return await self.agent().solve(self.routed(sample), ctx)


# -- loading -----------------------------------------------------------------------------
def _shipped_dir() -> Any:
    return resources.files("forgekit.agents") / "roles"


def shipped_roles_dir() -> Path:
    """The folder of the roles shipped inside forgekit."""
    return Path(str(_shipped_dir()))


def shipped_roles() -> list[str]:
    """Names of the roles shipped inside forgekit."""
    return sorted(p.name[:-5] for p in _shipped_dir().iterdir() if p.name.endswith(".yaml"))


def read_role_file(path: str | Path) -> Role:
    """A role from one YAML file; a bad field is a ConfigError with the file and line."""
    from forgekit.core.yamlfile import load_yaml, validate

    doc = load_yaml(path)
    spec = validate(RoleConfig, doc)
    return Role.from_spec(spec)


def _project_dir(project: str | Path | None) -> Path:
    if project is not None:
        return Path(project)
    from forgekit.core.config import load_config

    return load_config().root


def role_files(project: str | Path | None = None) -> dict[str, Path]:
    """Role name -> file: the shipped roles, overridden by ``<project>/roles/*.yaml``."""
    out: dict[str, Path] = {}
    for p in sorted(_shipped_dir().iterdir(), key=lambda p: p.name):
        if p.name.endswith(".yaml"):
            out[p.name[:-5]] = Path(str(p))
    folder = _project_dir(project) / ROLES_DIR
    if folder.is_dir():
        for p in sorted(folder.glob("*.y*ml")):
            out[p.stem] = p
    return out


def available_roles(project: str | Path | None = None) -> dict[str, Role]:
    """Every role a project can use by name (shipped ones and its own)."""
    return {name: read_role_file(path) for name, path in role_files(project).items()}


def load_role(name_or_path: str | Path | Role, project: str | Path | None = None) -> Role:
    """A role by name (the project's first, then shipped) or from a YAML file path."""
    if isinstance(name_or_path, Role):
        return name_or_path
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") and p.is_file():
        return read_role_file(p)
    files = role_files(project)
    if str(name_or_path) not in files:
        raise ConfigError(
            f"no role {str(name_or_path)!r}; known: {', '.join(sorted(files))} (add one as "
            f"{ROLES_DIR}/{name_or_path}.yaml in the project)"
        )
    return read_role_file(files[str(name_or_path)])

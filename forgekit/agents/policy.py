"""Tool policy: may this tool call run? Presets, YAML rules, deny → ask → allow.

Every matching rule is collected; if any says ``deny`` the call is denied, else if any says
``ask`` a human is asked (headless runs answer with `ask_default`), else if any says
``allow`` it runs, else `default` applies. Shell commands and Python code are rated by the
safety evaluator first, and rules can match on that risk. Paths named by a tool's path
arguments go through the path policy (resolved, then checked) before any rule.

Presets:

- ``plan-readonly``: read-only tools only.
- ``headless-safe`` (the default for unattended runs): high-risk denied, medium-risk asked
  (so denied when nobody can answer), the rest allowed.
- ``headless-permissive``: high-risk denied, everything else allowed.
- ``trusted``: everything allowed (paths still confined to the workspace).

In ``forgekit.yaml``::

    policy:
      preset: headless-safe
      ask_default: deny
      rules:
        - {tool: shell, command: "^git push", action: deny, reason: no publishing}
        - {tool: python, action: allow}
      paths: {deny: [".git/**", "secrets/**"]}
      network: [web_fetch]       # tools whose sandbox may reach the network

The policy decides what to run and what to ask a human; it is advice, not the security
boundary: every tool process runs in the OS sandbox (forgekit.core.sandbox) whatever the
policy says.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from forgekit.agents.paths import PathPolicy, PathRules
from forgekit.agents.safety import CommandRisk, Risk, assess_command
from forgekit.agents.tools import Effect, Tool
from forgekit.core.component import register_component
from forgekit.core.errors import ConfigError
from forgekit.core.yamlfile import load_yaml, validate

Action = Literal["allow", "deny", "ask"]
PRESETS = ("plan-readonly", "headless-safe", "headless-permissive", "trusted")


class Rule(BaseModel):
    """One rule; every given field must match for it to apply."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    tool: str = "*"  # glob on the tool name (an MCP tool also matches as server.tool)
    effect: Effect | list[Effect] | None = None
    risk: Risk | list[Risk] | None = None
    command: str | None = None  # regex searched in the command / code text
    reason: str | None = None

    @field_validator("command")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"not a valid regular expression: {e}") from None
        return v

    def matches(self, tool: Tool, risk: CommandRisk | None, text: str | None) -> bool:
        names = (tool.name, getattr(tool, "qualified_name", tool.name))  # MCP: server.tool
        if not any(fnmatch.fnmatchcase(n, self.tool) for n in names):
            return False
        if self.effect is not None:
            effects = [self.effect] if isinstance(self.effect, str) else self.effect
            if tool.effect not in effects:
                return False
        if self.risk is not None:
            levels = [self.risk] if isinstance(self.risk, str) else self.risk
            if risk is None or risk.level not in levels:
                return False
        return not (
            self.command is not None and (text is None or not re.search(self.command, text))
        )


_PRESET_RULES: dict[str, list[Rule]] = {
    "plan-readonly": [
        Rule(action="deny", effect=["write", "exec"], reason="plan-readonly: read-only tools only"),
        Rule(action="allow", effect=["read", "none"], reason="plan-readonly: a read-only tool"),
    ],
    "headless-safe": [
        Rule(action="deny", risk="high", reason="headless-safe: high risk"),
        Rule(action="ask", risk="medium", reason="headless-safe: medium risk needs approval"),
        Rule(action="allow", reason="headless-safe: low risk"),
    ],
    "headless-permissive": [
        Rule(action="deny", risk="high", reason="headless-permissive: high risk"),
        Rule(action="allow", reason="headless-permissive"),
    ],
    "trusted": [Rule(action="allow", reason="trusted: everything allowed")],
}


class PolicyConfig(BaseModel):
    """The `policy:` section of forgekit.yaml (or a standalone policy YAML file)."""

    model_config = ConfigDict(extra="forbid")

    preset: Literal["plan-readonly", "headless-safe", "headless-permissive", "trusted"] = (
        "headless-safe"
    )
    rules: list[Rule] = Field(default_factory=list)
    paths: PathRules = Field(default_factory=PathRules)
    # what `ask` becomes when no human can answer (headless runs)
    ask_default: Literal["deny", "allow"] = "deny"
    default: Action = "deny"
    # tools (globs on the name) whose processes may reach the network; every other tool
    # runs in a sandbox without one
    network: list[str] = Field(default_factory=list)


register_component(PolicyConfig, type="policy", kind="policy")


class Decision(BaseModel):
    """The policy's verdict on one call."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    reason: str
    risk: Risk | None = None
    findings: list[str] = Field(default_factory=list)
    network: bool = False  # the tool's sandbox may reach the network


class ToolPolicy:
    """Decides tool calls; built from a preset name, a PolicyConfig, a dict or a YAML file."""

    def __init__(
        self, config: PolicyConfig | None = None, *, workspace: str | Path | None = None
    ) -> None:
        self.config = config or PolicyConfig()
        self.workspace = Path(workspace or Path.cwd()).resolve()
        self.paths = PathPolicy(self.workspace, self.config.paths)

    def __repr__(self) -> str:
        return f"ToolPolicy(preset={self.config.preset!r}, rules={len(self.config.rules)})"

    @property
    def name(self) -> str:
        return self.config.preset

    def with_workspace(self, workspace: str | Path) -> ToolPolicy:
        return ToolPolicy(self.config, workspace=workspace)

    @classmethod
    def preset(cls, name: str, *, workspace: str | Path | None = None) -> ToolPolicy:
        if name not in PRESETS:
            raise ConfigError(
                f"unknown policy preset {name!r}; choose one of {', '.join(PRESETS)}",
                key="policy.preset",
            )
        return cls(PolicyConfig.model_validate({"preset": name}), workspace=workspace)

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], *, workspace: str | Path | None = None, source: str | None = None
    ) -> ToolPolicy:
        """From the `policy:` dict of a ProjectConfig; errors name file, line and key when
        `source` (the forgekit.yaml path) is given."""
        if source and Path(source).is_file():
            doc = load_yaml(source)
            if isinstance(doc.data, dict) and "policy" in doc.data:
                return cls(validate(PolicyConfig, doc, root=("policy",)), workspace=workspace)
        try:
            return cls(PolicyConfig.model_validate(data or {}), workspace=workspace)
        except ValidationError as e:
            err = e.errors()[0]
            key = "policy." + ".".join(map(str, err["loc"]))
            raise ConfigError(f"invalid policy: {err['msg']}", file=source, key=key) from None

    @classmethod
    def load(cls, path: str | Path, *, workspace: str | Path | None = None) -> ToolPolicy:
        """From a YAML file holding a policy (at the top level or under `policy:`)."""
        doc = load_yaml(path)
        root: tuple[str, ...] = (
            ("policy",) if isinstance(doc.data, dict) and "policy" in doc.data else ()
        )
        return cls(validate(PolicyConfig, doc, root=root), workspace=workspace)

    def config_dict(self) -> dict[str, Any]:
        return self.config.model_dump(mode="json")

    def __component_config__(self) -> str | PolicyConfig:
        """A preset's name when that is all it is, else the policy's settings; both
        are what `resolve_policy` takes back."""
        data = self.config.model_dump(mode="json", exclude_defaults=True)
        if set(data) <= {"preset"}:
            return self.config.preset
        return self.config  # a registered component: {type: policy, preset: ..., ...}

    # -- deciding ----------------------------------------------------------------------
    def assess(
        self, tool: Tool, arguments: dict[str, Any]
    ) -> tuple[CommandRisk | None, str | None]:
        """The safety rating of the command or code a call would run, if it runs one."""
        if tool.command_arg and isinstance(arguments.get(tool.command_arg), str):
            text = arguments[tool.command_arg]
            return assess_command(text, str(self.workspace)), text
        if tool.code_arg and isinstance(arguments.get(tool.code_arg), str):
            text = arguments[tool.code_arg]
            return assess_command(f"python3 -c {_shell_quote(text)}", str(self.workspace)), text
        return None, None

    def decide(self, tool: Tool, arguments: dict[str, Any] | str) -> Decision:
        """deny → ask → allow over the preset's and the user's rules."""
        args = arguments if isinstance(arguments, dict) else {}
        for name in tool.path_args:
            value = args.get(name)
            if isinstance(value, str) and value:
                ok, why = self.paths.check(value)
                if not ok:
                    return Decision(action="deny", reason=f"path policy: {why}")
        risk, text = self.assess(tool, args)
        rules = [*self.config.rules, *_PRESET_RULES[self.config.preset]]
        matched = [r for r in rules if r.matches(tool, risk, text)]
        extra: dict[str, Any] = {
            "network": any(fnmatch.fnmatchcase(tool.name, g) for g in self.config.network)
        }
        if risk is not None:
            extra.update(risk=risk.level, findings=risk.findings)
        for action in ("deny", "ask", "allow"):
            hit = next((r for r in matched if r.action == action), None)
            if hit is not None:
                why = hit.reason or f"rule {hit.model_dump(exclude_none=True)}"
                if risk is not None and risk.level != "low":
                    why = f"{why}: {risk.reason}"
                return Decision(action=action, reason=why, **extra)
        return Decision(action=self.config.default, reason="no rule matched: default", **extra)


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def resolve_policy(
    policy: str | ToolPolicy | PolicyConfig | dict | None, *, workspace: str | Path | None = None
) -> ToolPolicy:
    """A ToolPolicy from a preset name, a YAML path, a config, a dict, or None (default)."""
    if isinstance(policy, ToolPolicy):
        return policy.with_workspace(workspace) if workspace is not None else policy
    if policy is None:
        return ToolPolicy(workspace=workspace)
    if isinstance(policy, PolicyConfig):
        return ToolPolicy(policy, workspace=workspace)
    if isinstance(policy, dict):
        return ToolPolicy.from_dict(policy, workspace=workspace)
    if isinstance(policy, str) and policy in PRESETS:
        return ToolPolicy.preset(policy, workspace=workspace)
    if isinstance(policy, (str, Path)) and Path(policy).suffix in (".yaml", ".yml"):
        return ToolPolicy.load(policy, workspace=workspace)
    raise ConfigError(
        f"unknown policy {policy!r}: a preset ({', '.join(PRESETS)}), a YAML "
        "path, a dict or a ToolPolicy",
        key="policy",
    )

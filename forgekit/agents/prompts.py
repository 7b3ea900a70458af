"""Prompts are Jinja2 templates in `forgekit/agents/prompts/*.j2`, overridable by passing a
path to a template file (or a template string with `from_string`)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from forgekit.core.errors import ConfigError


class Prompt:
    """A Jinja2 template: a shipped name (``"system"``), a file path, or inline text."""

    def __init__(self, source: str, *, name: str = "inline") -> None:
        self.source = source
        self.name = name

    def __component_config__(self) -> str | dict[str, str]:
        """How a config refers to this prompt: its shipped name or file, or its text."""
        return {"template": self.source} if self.name == "inline" else self.name

    @classmethod
    def load(cls, name_or_path: str | Path | Prompt | dict[str, str]) -> Prompt:
        if isinstance(name_or_path, Prompt):
            return name_or_path
        if isinstance(name_or_path, dict):  # {"template": "..."}: inline text, from a config
            if set(name_or_path) != {"template"}:
                raise ConfigError(
                    f"a prompt given as a mapping has one key, 'template'; got "
                    f"{sorted(name_or_path)}", key="system_prompt"
                )
            return cls.from_string(name_or_path["template"])
        p = Path(name_or_path)
        if p.suffix == ".j2" and p.is_file():
            return cls(p.read_text(encoding="utf-8"), name=str(p))
        shipped = resources.files("forgekit.agents") / "prompts" / f"{name_or_path}.j2"
        if shipped.is_file():
            return cls(shipped.read_text(encoding="utf-8"), name=str(name_or_path))
        raise ConfigError(
            f"no prompt template {str(name_or_path)!r}: give a .j2 file path or "
            "a shipped name (system, text_tools, revise)"
        )

    @classmethod
    def from_string(cls, text: str) -> Prompt:
        return cls(text)

    def render(self, **variables: Any) -> str:
        import jinja2

        env = jinja2.Environment(
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        try:
            return env.from_string(self.source).render(**variables).strip()
        except jinja2.TemplateError as e:
            raise ConfigError(f"prompt template {self.name}: {e}") from None

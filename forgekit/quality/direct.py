"""`Direct`: one model call with a prompt template; the quality layer's default inner
solver. It is `forgekit.core.prompt_solver.PromptSolver` (the eval suites' `type: prompt`)
with the quality layer's signature: call parameters as keyword arguments.
"""

from __future__ import annotations

from typing import Any

from forgekit.core.prompt_solver import PromptSolver


class Direct(PromptSolver):
    """Ask the model once: ``template`` is a ``str.format`` string over ``{input}`` and
    ``{choices}`` (or Jinja2, as in `PromptSolver`); an optional system prompt and model;
    call parameters (``max_tokens``, ...).

    Example:
        >>> solver = Direct("{input}\\nAnswer with just the number.", max_tokens=16)
    """

    def __init__(
        self,
        template: str = "{input}",
        *,
        system: str | None = None,
        model: str | None = None,
        name: str = "direct",
        **params: Any,
    ) -> None:
        super().__init__(template, system=system, name=name, params=params, model=model)

    def config(self) -> dict[str, Any]:
        return {
            "type": "direct",
            "template": self.template,
            "system": self.system,
            "model": self.model,
            "name": self.name,
            **self.params,
        }

"""`Direct`: one model call with a prompt template; the simplest inner solver.

The evals layer has a richer prompt solver (`forgekit.evals.PromptSolver`, few-shot,
Jinja2); any solver works inside a strategy. `Direct` exists so the quality layer (its
tests, docs and `from_config`) has a default that needs nothing above it.
"""

from __future__ import annotations

from typing import Any

from forgekit.core.context import RunContext
from forgekit.core.messages import Message
from forgekit.core.samples import Answer, Sample


def render_choices(choices: list[str] | None) -> str:
    return "\n".join(f"{chr(65 + i)}. {c}" for i, c in enumerate(choices or []))


class Direct:
    """Ask the model once: ``template`` is a ``str.format`` string over ``{input}`` and
    ``{choices}``; an optional system prompt; call parameters (``max_tokens``, ...).

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
        self.name = name
        self.template = template
        self.system = system
        self.model = model
        self.params = params

    def config(self) -> dict[str, Any]:
        return {
            "type": "direct",
            "template": self.template,
            "system": self.system,
            "model": self.model,
            "name": self.name,
            **self.params,
        }

    def messages(self, sample: Sample) -> list[Message]:
        msgs = [Message.system(self.system)] if self.system else []
        if isinstance(sample.input, list) and self.template == "{input}":
            return msgs + list(sample.input)
        text = self.template.format(
            input=sample.input_text(), choices=render_choices(sample.choices)
        )
        return [*msgs, Message.user(text)]

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        resp = await ctx.complete(self.messages(sample), model=self.model, **self.params)
        return Answer(
            text=resp.text,
            usage=resp.usage,
            cost_usd=resp.cost_usd,
            stop_reason=resp.finish_reason,
            messages=[resp.to_message()],
        )

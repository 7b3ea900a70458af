"""`PromptSolver`: one model call with a prompt template, the simplest Solver.

It lives in core so that every layer can use it: the eval suites' `type: prompt`
(`forgekit.evals`) and the quality layer's default inner solver (`forgekit.quality.Direct`,
another name for this class) are one class with one config (``type: prompt``).
"""

from __future__ import annotations

from typing import Any

from forgekit.core.component import Component, register_alias
from forgekit.core.context import RunContext
from forgekit.core.messages import Message
from forgekit.core.samples import Answer, Sample


def render_prompt(template: str, sample: Sample) -> str:
    """`template` filled from `sample`: ``str.format`` over ``{input}``, ``{id}``,
    ``{choices}`` (lettered lines), ``{metadata}`` and each metadata key; Jinja2 when the
    template has ``{{`` or ``{%`` (with `sample` too; an undefined name is an error)."""
    values = {
        "input": sample.input_text(),
        "id": sample.id,
        "choices": "\n".join(f"{chr(65 + i)}. {c}" for i, c in enumerate(sample.choices or [])),
        "metadata": sample.metadata,
        **{k: v for k, v in sample.metadata.items() if isinstance(k, str) and k.isidentifier()},
    }
    if "{{" in template or "{%" in template:
        import jinja2

        env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        return env.from_string(template).render(sample=sample, **values)
    return template.format(**values)


class PromptSolver(Component, type="prompt", kind="solver"):
    """One model call with a prompt template (str.format or Jinja2) and optional system
    prompt, few-shot examples and model alias (default: the run's model). Call
    parameters go in `params` or as extra keyword arguments (``max_tokens=16``); both
    spellings give the same config.

    Example:
        >>> s = PromptSolver("{input}\\nAnswer with just the number.", name="terse",
        ...                  max_tokens=16)
        >>> s.config()["params"]
        {'max_tokens': 16}
    """

    raw_args = frozenset({"params", "few_shot"})

    def __init__(
        self,
        template: str = "{input}",
        *,
        system: str | None = None,
        name: str = "prompt",
        few_shot: list[dict[str, str]] | None = None,
        params: dict[str, Any] | None = None,
        model: str | None = None,
        **call_params: Any,
    ) -> None:
        self.name = name
        self.model = model
        self.template = template
        self.system = system
        self.few_shot = list(few_shot or [])
        self.params = {**(params or {}), **call_params}

    def config_args(self) -> dict[str, Any]:
        # one canonical form: call parameters always under `params`
        given = {
            "template": self.template,
            "system": self.system,
            "name": self.name,
            "few_shot": self.few_shot,
            "params": self.params,
            "model": self.model,
        }
        defaults: dict[str, Any] = {"template": "{input}", "system": None, "name": "prompt", "few_shot": [],
                    "params": {}, "model": None}
        return {k: v for k, v in given.items() if v != defaults[k]}

    def __repr__(self) -> str:
        return f"PromptSolver({self.template!r}, name={self.name!r})"

    def messages(self, sample: Sample) -> list[Message]:
        msgs: list[Message] = []
        if self.system:
            msgs.append(Message.system(self.system))
        for shot in self.few_shot:
            msgs.append(Message.user(shot["user"]))
            msgs.append(Message.assistant(shot["assistant"]))
        if isinstance(sample.input, list) and self.template == "{input}":
            return msgs + list(sample.input)
        msgs.append(Message.user(render_prompt(self.template, sample)))
        return msgs

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        params = dict(self.params)
        if ctx.seed is not None and params.get("temperature", 0) > 0 and "seed" not in params:
            params["seed"] = ctx.seed  # sampled runs stay reproducible
        resp = await ctx.complete(self.messages(sample), model=self.model, **params)
        return Answer(
            text=resp.text,
            usage=resp.usage,
            cost_usd=resp.cost_usd,
            stop_reason=resp.finish_reason,
            messages=[resp.to_message()],
        )


# `type: direct` was the quality layer's name for this solver (its call parameters were
# top-level keys, which the constructor still accepts)
register_alias("direct", "prompt")

"""Structured output: ask for a pydantic schema; invalid output goes back to the model with
the validation errors for revision, up to a limit.

    city = await complete_structured(ctx, "Capital of France?", City, max_revisions=2)
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from forgekit.agents.prompts import Prompt
from forgekit.agents.text_tools import _loads
from forgekit.core.context import RunContext
from forgekit.core.errors import ForgekitError
from forgekit.core.events import NoteEvent
from forgekit.core.messages import Message, as_messages

M = TypeVar("M", bound=BaseModel)


class StructuredOutputError(ForgekitError):
    """The model did not produce valid output for the schema within the revision limit."""

    def __init__(self, message: str, *, last_text: str = "", errors: str = "") -> None:
        super().__init__(message)
        self.last_text = last_text
        self.errors = errors


def parse_structured(text: str, schema: type[M]) -> M:
    """Validate a model reply (JSON, possibly fenced or inside prose) against `schema`;
    raises ValueError with a readable list of problems."""
    try:
        data = _loads(text)
    except ValueError:
        raise ValueError("the reply contains no JSON object") from None
    try:
        return schema.model_validate(data)
    except ValidationError as e:
        raise ValueError(
            "\n".join(
                f"- {'.'.join(map(str, err['loc'])) or '(root)'}: {err['msg']}"
                for err in e.errors()
            )
        ) from None


async def complete_structured(
    ctx: RunContext,
    messages: list[Message] | str,
    schema: type[M],
    *,
    max_revisions: int = 2,
    model: str | None = None,
    **params: Any,
) -> M:
    """One call through `ctx.complete` asking for `schema`, revised up to `max_revisions`
    times. Each revision is recorded as a NoteEvent(kind="structured_revision")."""
    schema_text = json.dumps(schema.model_json_schema(), sort_keys=True)
    msgs = [
        *as_messages(messages),
        Message.user(Prompt.load("structured").render(schema=schema_text)),
    ]
    last = ""
    errors = ""
    for attempt in range(max_revisions + 1):
        resp = await ctx.complete(msgs, model=model, **params)
        last = resp.text
        try:
            return parse_structured(last, schema)
        except ValueError as e:
            errors = str(e)
        ctx.emit(
            NoteEvent(
                kind="structured_revision",
                data={"attempt": attempt, "errors": errors, "text": last[:2000]},
            )
        )
        msgs = [
            *msgs,
            Message.assistant(last),
            Message.user(Prompt.load("revise").render(errors=errors, schema=schema_text)),
        ]
    raise StructuredOutputError(
        f"no valid {schema.__name__} after {max_revisions} revision(s): {errors}",
        last_text=last,
        errors=errors,
    )

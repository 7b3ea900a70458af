"""Guardrail: a validator accepts or rejects the inner solver's answer; on a reject the
inner solver tries again with the feedback in its prompt, up to ``max_attempts``.

Validators:

- a function ``(answer, sample) -> bool | str | (bool, str) | Verdict`` (sync or async);
  ``True``/``""`` accept, ``False`` rejects, a non-empty ``str`` rejects with that feedback;
- a pydantic model class (`SchemaValidator`): the answer must hold a JSON object that
  validates; the parsed object becomes ``answer.data``;
- `LLMValidator`: a model checks the answer against rules and replies PASS or FAIL with a
  reason. An unreadable reply counts as ``on_unparsed`` (``"reject"`` by default: a
  guardrail that cannot tell fails closed) and is noted.

When every attempt is rejected the last answer is returned with
``stop_reason="rejected"`` and ``metadata["accepted"] = False``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from forgekit.core.component import Component, resolve_ref
from forgekit.core.context import Solver
from forgekit.core.messages import Message
from forgekit.core.samples import Answer, Sample
from forgekit.quality.strategy import (
    Strategy,
    StrategyConfig,
    StrategyRun,
    callable_name,
    load_callable,
    maybe_await,
)
from forgekit.quality.verdicts import parse_pass_fail

FEEDBACK_PROMPT = """{input}

Your previous answer was:
{answer}

It was rejected: {feedback}
Answer again, fixing that."""

GUARD_PROMPT = """Check the answer against the rules.

Rules:
{rules}

Question:
{question}

Answer:
{answer}

Reply PASS if the answer follows every rule, otherwise FAIL: <what is wrong>."""


class Verdict(BaseModel):
    """A validator's decision."""

    ok: bool
    feedback: str = ""
    data: Any = None  # a parsed value (a schema validator's object)
    unparsed: bool = False  # an LLM guardrail's reply could not be read


def _to_verdict(value: Any) -> Verdict:
    if isinstance(value, Verdict):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        return Verdict(ok=bool(value[0]), feedback=str(value[1] or ""))
    if isinstance(value, str):
        return Verdict(ok=not value.strip(), feedback=value.strip())
    if value is None:
        return Verdict(ok=True)
    return Verdict(ok=bool(value), feedback="" if value else "the answer was rejected")


def extract_json(text: str) -> Any:
    """The first JSON object or array in `text` (fenced or bare); raises ValueError."""
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    body = fence.group(1) if fence else text
    dec = json.JSONDecoder()
    for i, ch in enumerate(body):
        if ch in "{[":
            try:
                value, _ = dec.raw_decode(body[i:])
                return value
            except json.JSONDecodeError:
                continue
    raise ValueError("no JSON object found in the answer")


class SchemaValidator(Component, type="schema_validator", kind="validator"):
    """Accepts an answer holding JSON that validates against a pydantic model (the
    class, or its import reference ``"module:Class"``)."""

    def __init__(self, model: type[BaseModel] | str) -> None:
        self.model = resolve_ref(model, key="validator.model")
        self.name = f"schema:{self.model.__name__}"

    def __call__(self, answer: Answer, sample: Sample) -> Verdict:
        try:
            raw = extract_json(answer.text)
        except ValueError as e:
            fields = ", ".join(self.model.model_fields)
            return Verdict(
                ok=False, feedback=f"{e}; reply with a JSON object with the fields: {fields}"
            )
        try:
            obj = self.model.model_validate(raw)
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}"
                for err in e.errors()[:5]
            )
            return Verdict(ok=False, feedback=f"the JSON does not fit the schema: {problems}")
        return Verdict(ok=True, data=obj.model_dump(mode="json"))


class LLMValidator(Component, type="llm_validator", kind="validator"):
    """A model checks the answer against `rules` and replies PASS or FAIL: reason."""

    def __init__(
        self,
        rules: str,
        *,
        model: str | None = None,
        prompt: str = GUARD_PROMPT,
        max_tokens: int = 48,
    ) -> None:
        self.rules = rules
        self.model = model
        self.prompt = prompt
        self.max_tokens = max_tokens
        self.name = "llm"

    async def check(self, answer: Answer, sample: Sample, run: StrategyRun) -> Verdict:
        text = self.prompt.format(
            rules=self.rules, question=sample.input_text(), answer=answer.text.strip()
        )
        resp = await run.call(
            text, model=self.model, purpose="guardrail", temperature=0.0, max_tokens=self.max_tokens
        )
        if resp is None:
            return Verdict(ok=False, feedback="the guardrail could not run", unparsed=True)
        parsed = parse_pass_fail(resp.text)
        if parsed is None:
            return Verdict(
                ok=False, feedback=f"unclear guardrail reply: {resp.text[:200]}", unparsed=True
            )
        return Verdict(ok=parsed[0], feedback=parsed[1])


class GuardrailConfig(StrategyConfig):
    max_attempts: int = Field(default=3, ge=1, le=20)
    validator: str | None = None  # display/import name of the validator
    rules: str | None = None  # an LLM guardrail's rules (from YAML)
    guard_model: str | None = None
    on_unparsed: Literal["accept", "reject"] = "reject"
    feedback_prompt: str = FEEDBACK_PROMPT


def with_feedback(sample: Sample, previous: str, feedback: str, template: str) -> Sample:
    """The sample for the next attempt: the rejected answer and the feedback appended."""
    meta = {**sample.metadata, "feedback": feedback, "previous_answer": previous}
    if isinstance(sample.input, list):
        msgs = [
            *sample.input,
            Message.assistant(previous),
            Message.user(f"That answer was rejected: {feedback}\nAnswer again, fixing that."),
        ]
        return sample.model_copy(update={"input": msgs, "metadata": meta})
    text = template.format(input=sample.input, answer=previous, feedback=feedback)
    return sample.model_copy(update={"input": text, "metadata": meta})


class Guardrail(Strategy, type="guardrail"):
    """Validate the inner solver's answer; retry with the feedback on a reject.

    Example:
        >>> from forgekit.quality import Direct, Guardrail
        >>> solver = Guardrail(Direct("{input}"), validator=lambda a, s: a.text.isdigit())
    """

    kind = "guardrail"
    Config = GuardrailConfig
    cfg: GuardrailConfig  # the validated options (set by Strategy.__init__)

    def __init__(self, inner: Solver, *, validator: Any = None, **options: Any) -> None:
        if isinstance(validator, type) and issubclass(validator, BaseModel):
            validator = SchemaValidator(validator)
        elif isinstance(validator, str):
            loaded = load_callable(validator, "validator")
            validator = SchemaValidator(loaded) if isinstance(loaded, type) else loaded
        if validator is None and options.get("rules"):
            validator = LLMValidator(options["rules"], model=options.get("guard_model"))
        if validator is None:
            from forgekit.core.errors import ConfigError

            raise ConfigError(
                "guardrail needs a validator (function, pydantic model, "
                "LLMValidator) or rules for an LLM guardrail",
                key="validator",
            )
        self.validator = validator
        name = (
            validator.name
            if isinstance(validator, (SchemaValidator, LLMValidator))
            else callable_name(validator)
        )
        super().__init__(inner, validator=name, **options)

    def config_args(self) -> dict[str, Any]:
        data = self.cfg.model_dump(mode="json", exclude_defaults=True)
        data.pop("validator", None)  # the display name; the validator itself is below
        return {"inner": self.inner, "validator": self.validator, **data}

    async def _validate(self, run: StrategyRun, answer: Answer) -> Verdict:
        v = self.validator
        try:
            if isinstance(v, LLMValidator):
                verdict = await v.check(answer, run.sample, run)
            else:
                verdict = _to_verdict(await maybe_await(v(answer, run.sample)))
        except Exception as e:
            verdict = Verdict(
                ok=False, feedback=f"validator raised {type(e).__name__}: {e}", unparsed=True
            )
        if verdict.unparsed:
            accept = self.cfg.on_unparsed == "accept"
            run.note(
                "fallback",
                purpose="guardrail",
                reason=verdict.feedback,
                decision="accept" if accept else "reject",
            )
            verdict = verdict.model_copy(update={"ok": accept})
        return verdict

    async def _solve(self, run: StrategyRun) -> Answer:
        sample = run.sample
        accepted = None
        history: list[dict[str, Any]] = []
        for _ in range(self.cfg.max_attempts):
            if not run.budget_left():
                break
            cand = await run.run_child(self.inner, sample, role="attempt")
            if not cand.ok or cand.answer is None:
                continue
            verdict = await self._validate(run, cand.answer)
            cand.extra.update(accepted=verdict.ok, feedback=verdict.feedback)
            record = {"index": cand.index, "accepted": verdict.ok, "feedback": verdict.feedback}
            history.append(record)
            run.note("validation", **record)
            if verdict.ok:
                if verdict.data is not None:
                    cand.answer.data = verdict.data
                accepted = cand
                break
            if run.stopped:
                break
            sample = with_feedback(
                run.sample if not isinstance(sample.input, list) else sample,
                cand.text,
                verdict.feedback,
                self.cfg.feedback_prompt,
            )
        if accepted is not None:
            return run.finish(accepted, accepted=True, validations=history)
        ok = [c for c in run.candidates if c.ok]
        if not ok:
            return run.give_up()
        out = run.finish(ok[-1], accepted=False, validations=history)
        if out.stop_reason != "budget":
            out.stop_reason = "rejected"
        return out


def well_formed(answer: Answer, sample: Sample) -> bool | str:
    """A format validator for the bundled task sets: a choice letter for multiple choice,
    a number otherwise (the feedback says which). In YAML:
    ``validator: "forgekit.quality.guardrail:well_formed"``."""
    from forgekit.quality.normalize import extract_choice, extract_number

    if sample.choices:
        if extract_choice(answer.text, sample.choices) is not None:
            return True
        letters = ", ".join(chr(65 + i) for i in range(len(sample.choices)))
        return f"answer with one letter: {letters}"
    return extract_number(answer.text) is not None or "answer with a number"

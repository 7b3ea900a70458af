"""Retry + reviewer: the inner solver runs up to K times, each in a fresh child run; a
reviewer scores every attempt or chooses the best one; the best attempt is returned.

- ``mode="score"``: a judge gives each attempt a score (0..10), sampled
  ``judge_samples`` times and averaged (unreadable samples are skipped and noted; an
  attempt with no readable score ranks last). The run stops early when an attempt's
  mean reaches ``threshold``.
- ``mode="chooser"``: all attempts are made, then one judge call picks the best by
  number (unreadable: the first attempt that passed the check, else the first).
- ``check``: a function ``(answer, sample) -> bool | float`` (sync or async; e.g. run
  the unit tests). An attempt that passes ends the run at once; in score mode a float
  from the check is used as the score (0..1 mapped to 0..10) without a judge call.
- Ties go to the earlier attempt.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from forgekit.core.context import Solver
from forgekit.core.samples import Answer
from forgekit.quality.strategy import (
    Candidate,
    CheckFn,
    Strategy,
    StrategyConfig,
    StrategyRun,
    callable_name,
    load_callable,
    maybe_await,
    sampling_params,
)
from forgekit.quality.verdicts import (
    STRUCTURED_NOTE,
    json_field,
    parse_score,
    score_format,
    supports_schema,
)

SCORE_PROMPT = """Rate the answer to the question from 0 (wrong or useless) to 10 \
(correct and complete).

Question:
{question}

Answer:
{answer}

Reply with just the score, e.g. "Score: 7"."""

CHOOSER_PROMPT = """Several attempts answer the same question. Pick the best one.

Question:
{question}

{attempts}

Reply with just the number of the best attempt."""


class ReviewerRetryConfig(StrategyConfig):
    k: int = Field(default=3, ge=1, le=50)
    mode: Literal["score", "chooser", "check"] = "score"
    threshold: float | None = 8.0  # score mode: stop when an attempt's mean reaches it
    judge_samples: int = Field(default=1, ge=1, le=20)
    judge_temperature: float = 0.0  # > 0 makes the judge samples differ
    judge_model: str | None = None
    judge_max_tokens: int = 16
    score_prompt: str = SCORE_PROMPT
    chooser_prompt: str = CHOOSER_PROMPT
    check: str | None = None  # 'module:function' or the name of a given callable
    temperature: float | None = None  # attempts' sampling temperature (None: unchanged)
    seed: int | None = 0


class ReviewerRetry(Strategy, type="reviewer"):
    """Up to K fresh attempts; a reviewer (score or chooser) or a check picks the best.

    Example:
        >>> from forgekit.quality import Direct, ReviewerRetry
        >>> solver = ReviewerRetry(Direct("{input}"), k=3, mode="score", threshold=8)
    """

    kind = "reviewer"
    Config = ReviewerRetryConfig
    cfg: ReviewerRetryConfig  # the validated options (set by Strategy.__init__)

    def __init__(self, inner: Solver, *, check: CheckFn | str | None = None, **options: Any) -> None:
        self._check = load_callable(check, "check")
        super().__init__(inner, check=callable_name(check), **options)

    async def _check_pass(self, run: StrategyRun, cand: Candidate) -> bool | float | None:
        if self._check is None or cand.answer is None:
            return None
        try:
            result = await maybe_await(self._check(cand.answer, run.sample))
        except Exception as e:
            run.note(
                "fallback",
                purpose="check",
                index=cand.index,
                reason=f"check raised {type(e).__name__}: {e}; counted as failed",
            )
            return False
        if isinstance(result, bool) or result is None:
            return bool(result)
        return float(result)

    async def _score(self, run: StrategyRun, cand: Candidate) -> float | None:
        prompt = self.cfg.score_prompt.format(
            question=run.sample.input_text(), answer=cand.text.strip()
        )
        values: list[float] = []
        structured = supports_schema(run.sctx, self.cfg.judge_model)
        if structured:
            prompt += STRUCTURED_NOTE.format(shape='{"score": <0-10>}')
        for j in range(self.cfg.judge_samples):
            params: dict[str, Any] = {
                "temperature": self.cfg.judge_temperature,
                "max_tokens": self.cfg.judge_max_tokens,
            }
            if structured:  # the endpoint enforces the shape: any model answers in it
                params["response_format"] = score_format()
                params["max_tokens"] = max(self.cfg.judge_max_tokens, 24)
            if self.cfg.judge_temperature > 0:
                params["seed"] = (self.cfg.seed or 0) + 1000 + j
            resp = await run.call(
                prompt, model=self.cfg.judge_model, purpose="reviewer_score", **params
            )
            if resp is None:
                break
            value = json_field(resp.text, "score")
            if not isinstance(value, (int, float)) or not 0 <= value <= 10:
                value = parse_score(resp.text)
            if value is None:
                run.note(
                    "fallback",
                    purpose="reviewer_score",
                    index=cand.index,
                    sample=j,
                    reason="unreadable score: sample skipped",
                    reply=resp.text[:200],
                )
            else:
                values.append(value)
        mean = sum(values) / len(values) if values else None
        run.note("score", index=cand.index, samples=values, mean=mean)
        cand.extra["score_samples"] = values
        return mean

    async def _solve(self, run: StrategyRun) -> Answer:
        cfg = self.cfg
        passed: Candidate | None = None
        for i in range(cfg.k):
            if not run.budget_left():
                break
            params = sampling_params(cfg.temperature, cfg.seed, i)
            cand = await run.run_child(self.inner, run.sample, role="attempt", params=params)
            if not cand.ok:
                continue
            check = await self._check_pass(run, cand)
            if check is not None:
                cand.extra["check"] = check
                run.note("check", index=cand.index, result=check)
            if check is True or (isinstance(check, float) and check >= 1.0):
                cand.score = 10.0 if cfg.mode == "score" else cand.score
                passed = cand
                run.note("early_exit", index=cand.index, reason="check passed")
                break
            if cfg.mode == "score":
                if isinstance(check, float):
                    cand.score = 10.0 * check
                else:
                    cand.score = await self._score(run, cand)
                if (
                    cfg.threshold is not None
                    and cand.score is not None
                    and cand.score >= cfg.threshold
                ):
                    passed = cand
                    run.note(
                        "early_exit",
                        index=cand.index,
                        reason=f"score {cand.score:g} >= threshold {cfg.threshold:g}",
                    )
                    break
            if run.stopped:
                break
        ok = [c for c in run.candidates if c.ok]
        if not ok:
            return run.give_up()
        if passed is not None:
            return run.finish(passed, mode=cfg.mode, early_exit=True)
        if cfg.mode == "chooser" and len(ok) > 1:
            chosen = await self._choose(run, ok)
        elif cfg.mode == "score":
            chosen = max(
                ok, key=lambda c: (c.score if c.score is not None else float("-inf"), -c.index)
            )
        else:  # check mode without a pass: the best check value, else the first
            chosen = max(ok, key=lambda c: (float(c.extra.get("check") or 0), -c.index))
        return run.finish(chosen, mode=cfg.mode, early_exit=False)

    async def _choose(self, run: StrategyRun, ok: list[Candidate]) -> Candidate:
        listing = "\n\n".join(f"Attempt {i + 1}:\n{c.text.strip()}" for i, c in enumerate(ok))
        prompt = self.cfg.chooser_prompt.format(question=run.sample.input_text(), attempts=listing)
        picked, reply = await run.pick(
            prompt,
            len(ok),
            model=self.cfg.judge_model,
            purpose="chooser",
            max_tokens=self.cfg.judge_max_tokens,
            fallback_reason="no readable choice: first attempt",
        )
        if picked is None:
            return ok[0]
        run.note("chosen_by_reviewer", index=ok[picked].index, reply=reply)
        return ok[picked]

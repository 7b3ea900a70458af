"""Best-of-N / ask colleagues: N independent answers, then a majority vote over their
normalised form or an LLM synthesis of the best answer.

Diversity comes from sampling (``temperature`` > 0, a different ``seed`` per candidate)
or from asking different models (``models=[...]``, one candidate per model, cycled when
``n`` is larger). With ``aggregate="vote"`` the answers are normalised (numbers,
multiple-choice letters, plain text, or your own function) and the most frequent one
wins; ties go to the key whose first candidate came earliest. With
``aggregate="synthesis"`` a model reads all candidates and writes the final answer; if
that call fails or is refused, the vote decides and a note says so.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from forgekit.core.context import Solver
from forgekit.core.samples import Answer
from forgekit.quality.normalize import NormalizeMode, normalize_answer, resolve_mode
from forgekit.quality.strategy import (
    Candidate,
    Strategy,
    StrategyConfig,
    StrategyRun,
    callable_name,
    load_callable,
    sampling_params,
)
from forgekit.quality.voting import majority_vote

SYNTHESIS_PROMPT = """You are given a question and several candidate answers written by \
colleagues. Some may be wrong. Write the single best final answer to the question.

Question:
{question}

Candidate answers:
{candidates}

Final answer:"""


class BestOfNConfig(StrategyConfig):
    n: int = Field(default=5, ge=1, le=100)
    temperature: float | None = 0.7  # None: leave the inner solver's temperature alone
    models: list[str] | None = None  # ask colleagues: one candidate per model (cycled)
    seed: int | None = 0  # candidate i samples with seed + i (None: no seed)
    aggregate: Literal["vote", "synthesis"] = "vote"
    normalize: NormalizeMode | str = "auto"  # or "module:function"
    synthesis_model: str | None = None
    synthesis_prompt: str = SYNTHESIS_PROMPT
    synthesis_max_tokens: int | None = None

    @field_validator("normalize")
    @classmethod
    def _mode_or_import(cls, v: str) -> str:
        if v not in ("auto", "number", "choice", "text", "exact") and ":" not in v:
            raise ValueError("must be auto, number, choice, text, exact or 'module:function'")
        return v


class BestOfN(Strategy, type="best_of_n"):
    """N answers from the inner solver, majority vote (or synthesis) picks the result.

    Example:
        >>> from forgekit.quality import BestOfN, Direct
        >>> solver = BestOfN(Direct("{input}\\nAnswer with a number."), n=5, temperature=0.8)
    """

    kind = "best_of_n"
    Config = BestOfNConfig
    cfg: BestOfNConfig  # the validated options (set by Strategy.__init__)

    def __init__(self, inner: Solver, *, normalize: Any = "auto", **options: Any) -> None:
        self._normalizer = normalize if callable(normalize) else None
        super().__init__(
            inner,
            normalize=callable_name(normalize) if callable(normalize) else normalize,
            **options,
        )
        if self._normalizer is None and ":" in self.cfg.normalize:
            self._normalizer = load_callable(self.cfg.normalize, "normalize")

    def _jobs(self) -> list[dict[str, Any]]:
        cfg = self.cfg
        jobs = []
        for i in range(cfg.n):
            params = sampling_params(cfg.temperature, cfg.seed, i)
            model = cfg.models[i % len(cfg.models)] if cfg.models else None
            jobs.append({"role": "candidate", "model": model, "params": params})
        return jobs

    def keys(self, run: StrategyRun, cands: list[Candidate]) -> str:
        """Normalise every candidate (sets `key`); returns the mode used."""
        sample = run.sample
        if self._normalizer is not None:
            for c in cands:
                c.key = normalize_answer(c.text, self._normalizer) if c.ok else None
            return self.cfg.normalize
        mode = resolve_mode(
            self.cfg.normalize,  # type: ignore[arg-type]  # not a callable's path here
            [c.text for c in cands if c.ok],
            sample.choices,
            sample.task_class,
            sample.metadata.get("answer_type"),
        )
        for c in cands:
            c.key = normalize_answer(c.text, mode, sample.choices) if c.ok else None
        return mode

    async def _solve(self, run: StrategyRun) -> Answer:
        await run.run_children(self._jobs(), self.inner, run.sample)
        ok = [c for c in run.candidates if c.ok]
        if not ok:
            return run.give_up()
        mode = self.keys(run, run.candidates)
        vote = majority_vote([c.key if c.ok else None for c in run.candidates])
        for c in run.candidates:
            c.extra["votes"] = vote.counts.get(c.key, 0) if c.key is not None else 0
        winner = run.candidates[vote.winner_index]
        if not winner.ok:  # nobody had a key: the first answer that exists
            winner = ok[0]
        run.note(
            "vote",
            mode=mode,
            counts=vote.counts,
            tied=vote.tied,
            abstained=vote.abstained,
            winner=vote.winner_key,
            index=winner.index,
        )
        details: dict[str, Any] = {
            "votes": vote.counts,
            "tied": vote.tied,
            "normalize": mode,
            "winner_key": vote.winner_key,
        }
        if self.cfg.aggregate == "synthesis" and len(ok) > 1 and not run.stopped:
            synthesized = await self._synthesize(run, ok)
            if synthesized is not None:
                return run.finish(winner, answer=synthesized, aggregate="synthesis", **details)
        return run.finish(winner, aggregate="vote", **details)

    async def _synthesize(self, run: StrategyRun, ok: list[Candidate]) -> Answer | None:
        listing = "\n".join(f"{i + 1}. {c.text.strip()}" for i, c in enumerate(ok))
        prompt = self.cfg.synthesis_prompt.format(
            question=run.sample.input_text(), candidates=listing
        )
        params = (
            {"max_tokens": self.cfg.synthesis_max_tokens} if self.cfg.synthesis_max_tokens else {}
        )
        resp = await run.call(prompt, model=self.cfg.synthesis_model, purpose="synthesis", **params)
        if resp is None or not resp.text.strip():
            run.note(
                "fallback",
                purpose="synthesis",
                reason="no synthesis (refused, failed or empty): the vote decides",
            )
            return None
        run.note("synthesis", text=resp.text[:500])
        return Answer(text=resp.text, messages=[resp.to_message()])


class AskColleagues(BestOfN, type="ask_colleagues"):
    """Best-of-N across models: one candidate per alias in ``models`` (greedy by default).

    Example:
        >>> from forgekit.quality import AskColleagues, Direct
        >>> solver = AskColleagues(Direct("{input}"), models=["local", "gpt"])
    """

    kind = "ask_colleagues"

    def __init__(
        self,
        inner: Solver,
        *,
        models: list[str],
        n: int | None = None,
        temperature: float | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            inner, models=models, n=n or len(models), temperature=temperature, **options
        )

    def config_args(self) -> dict[str, Any]:
        # n and temperature have defaults of their own here: always spell them out
        return {**super().config_args(), "n": self.cfg.n, "temperature": self.cfg.temperature}

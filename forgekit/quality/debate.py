"""Debate: a proponent answers, a critic objects, the proponent defends or revises, for
R rounds; a moderator then picks the answer it accepts.

The proponent is the inner solver (so an agent can defend its answer); the critic and
the moderator are model calls, each possibly on another model (``critic_model``,
``moderator_model``; ``proponent_model`` forces the inner solver's model). Every turn
is a child run (``debate/proponent``, ``debate/critic``). The critic may end the debate
early by agreeing. The moderator replies with the number of the answer it accepts; an
unreadable reply falls back to the last answer, noted.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from forgekit.core.context import RunContext
from forgekit.core.messages import Message
from forgekit.core.samples import Answer, Sample
from forgekit.quality.guardrail import with_feedback
from forgekit.quality.strategy import Candidate, Strategy, StrategyConfig, StrategyRun
from forgekit.quality.verdicts import parse_agreement

CRITIC_PROMPT = """You are a critic. Find mistakes in the answer to the question. If the \
answer is correct, reply exactly AGREE.

Question:
{question}

Answer:
{answer}

Your critique:"""

DEFEND_PROMPT = """{input}

Your previous answer was:
{answer}

A critic objected: {feedback}
Give your final answer: keep it if you are right, otherwise correct it."""

MODERATOR_PROMPT = """You are the moderator of a debate about a question. Below are the \
answers proposed during the debate and the critic's objections.

Question:
{question}

{transcript}

Which answer is correct? Reply with just its number."""


class DebateConfig(StrategyConfig):
    rounds: int = Field(default=2, ge=1, le=10)
    proponent_model: str | None = None
    critic_model: str | None = None
    moderator_model: str | None = None
    critic_prompt: str = CRITIC_PROMPT
    defend_prompt: str = DEFEND_PROMPT
    moderator_prompt: str = MODERATOR_PROMPT
    critic_max_tokens: int = 64
    moderator_max_tokens: int = 8
    stop_on_agree: bool = True


class _Critic:
    """The critic as a solver, so its turn is a child run like the proponent's."""

    name = "critic"

    def __init__(self, prompt: str, answer: str, max_tokens: int) -> None:
        self.prompt, self.answer, self.max_tokens = prompt, answer, max_tokens

    def config(self) -> dict[str, Any]:
        return {"type": "debate_critic", "max_tokens": self.max_tokens}

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        text = self.prompt.format(question=sample.input_text(), answer=self.answer.strip())
        resp = await ctx.complete([Message.user(text)], temperature=0.0, max_tokens=self.max_tokens)
        return Answer(
            text=resp.text, usage=resp.usage, cost_usd=resp.cost_usd, messages=[resp.to_message()]
        )


class Debate(Strategy, type="debate"):
    """Proponent (the inner solver) vs critic for R rounds; a moderator decides.

    Example:
        >>> from forgekit.quality import Debate, Direct
        >>> solver = Debate(Direct("{input}"), rounds=2, critic_model="local")
    """

    kind = "debate"
    Config = DebateConfig
    cfg: DebateConfig  # the validated options (set by Strategy.__init__)

    async def _solve(self, run: StrategyRun) -> Answer:
        cfg = self.cfg
        proposals: list[Candidate] = []
        critiques: list[Candidate] = []
        first = await run.run_child(
            self.inner, run.sample, role="proponent", model=cfg.proponent_model, extra={"round": 0}
        )
        if first.ok:
            proposals.append(first)
        rounds_done = 0
        for r in range(1, cfg.rounds + 1):
            if not proposals or run.stopped or not run.budget_left():
                break
            current = proposals[-1]
            critic = _Critic(cfg.critic_prompt, current.text, cfg.critic_max_tokens)
            crit = await run.run_child(
                critic,
                run.sample,
                role="critic",
                model=cfg.critic_model,
                params={"temperature": 0.0},
                extra={"round": r},
            )
            if not crit.ok:
                break
            critiques.append(crit)
            agreed = parse_agreement(crit.text)
            run.note("critique", round=r, index=crit.index, agreed=agreed, text=crit.text[:300])
            rounds_done = r
            if agreed and cfg.stop_on_agree:
                run.note("early_exit", round=r, reason="the critic agreed")
                break
            if not run.budget_left():
                break
            turn = with_feedback(run.sample, current.text, crit.text.strip(), cfg.defend_prompt)
            reply = await run.run_child(
                self.inner, turn, role="proponent", model=cfg.proponent_model, extra={"round": r}
            )
            if reply.ok:
                proposals.append(reply)
        if not proposals:
            return run.give_up()
        chosen = await self._moderate(run, proposals, critiques)
        return run.finish(
            chosen,
            rounds=rounds_done,
            proposals=[p.index for p in proposals],
            critiques=[c.index for c in critiques],
        )

    async def _moderate(
        self, run: StrategyRun, proposals: list[Candidate], critiques: list[Candidate]
    ) -> Candidate:
        if len(proposals) == 1 or run.stopped:
            reason = "one proposal" if len(proposals) == 1 else "budget"
            run.note("moderator", index=proposals[-1].index, reason=f"{reason}: no call")
            return proposals[-1]
        lines = []
        for i, p in enumerate(proposals):
            lines.append(f"Answer {i + 1}: {p.text.strip()}")
            crit = next((c for c in critiques if c.extra.get("round") == i + 1), None)
            if crit is not None:
                lines.append(f"Critic on answer {i + 1}: {crit.text.strip()}")
        prompt = self.cfg.moderator_prompt.format(
            question=run.sample.input_text(), transcript="\n".join(lines)
        )
        picked, reply = await run.pick(
            prompt,
            len(proposals),
            model=self.cfg.moderator_model,
            purpose="moderator",
            max_tokens=self.cfg.moderator_max_tokens,
            fallback_reason="no readable choice: last answer",
        )
        if picked is None:
            return proposals[-1]
        run.note("moderator", index=proposals[picked].index, reply=reply)
        return proposals[picked]

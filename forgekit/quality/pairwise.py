"""Pairwise comparison: a judge model compares two candidates at a time; the winner of
a knockout tournament is the answer.

Each match is judged in both orders (A/B, then B/A) to cancel the judge's position
bias. Verdicts that disagree, ties and unreadable replies count as a tie; a tie goes to
the candidate with the lower index (the one generated first), a documented,
deterministic rule. Two candidates with the same normalised answer need no judge: the
lower index goes through without a call.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from forgekit.core.samples import Answer
from forgekit.quality.normalize import normalize_text
from forgekit.quality.strategy import (
    Candidate,
    Strategy,
    StrategyConfig,
    StrategyRun,
    sampling_params,
)
from forgekit.quality.verdicts import (
    STRUCTURED_NOTE,
    json_field,
    parse_preference,
    preference_format,
    supports_schema,
)

JUDGE_PROMPT = """Which answer to the question is better (correct, complete, concise)?

Question:
{question}

Answer A:
{a}

Answer B:
{b}

Reply with a single letter: A or B (or "tie")."""


class PairwiseConfig(StrategyConfig):
    n: int = Field(default=4, ge=2, le=64)
    temperature: float | None = 0.7
    seed: int | None = 0
    models: list[str] | None = None
    judge_model: str | None = None
    judge_prompt: str = JUDGE_PROMPT
    both_orders: bool = True
    judge_max_tokens: int = 8


class Pairwise(Strategy, type="pairwise"):
    """N candidates, a knockout tournament of judged pairs, the champion is returned.

    Example:
        >>> from forgekit.quality import Direct, Pairwise
        >>> solver = Pairwise(Direct("{input}"), n=4, judge_model="local")
    """

    kind = "pairwise"
    Config = PairwiseConfig
    cfg: PairwiseConfig  # the validated options (set by Strategy.__init__)

    def _jobs(self) -> list[dict[str, Any]]:
        cfg = self.cfg
        jobs = []
        for i in range(cfg.n):
            params = sampling_params(cfg.temperature, cfg.seed, i)
            jobs.append(
                {"model": cfg.models[i % len(cfg.models)] if cfg.models else None, "params": params}
            )
        return jobs

    async def _judge(self, run: StrategyRun, first: Candidate, second: Candidate) -> str | None:
        """One judged order: 'A' (first wins), 'B', 'tie' or None (unreadable/refused)."""
        prompt = self.cfg.judge_prompt.format(
            question=run.sample.input_text(), a=first.text.strip(), b=second.text.strip()
        )
        params: dict[str, Any] = {"temperature": 0.0, "max_tokens": self.cfg.judge_max_tokens}
        if supports_schema(run.sctx, self.cfg.judge_model):
            # the endpoint enforces the shape: any model answers in it
            prompt += STRUCTURED_NOTE.format(shape='{"winner": "A" | "B" | "tie"}')
            params.update(
                response_format=preference_format(),
                max_tokens=max(self.cfg.judge_max_tokens, 24),
            )
        resp = await run.call(
            prompt, model=self.cfg.judge_model, purpose="pairwise_judge", **params
        )
        if resp is None:
            return None
        winner = json_field(resp.text, "winner")
        verdict = winner if winner in ("A", "B", "tie") else parse_preference(resp.text)
        if verdict is None:
            run.note(
                "fallback",
                purpose="pairwise_judge",
                reason="unreadable verdict: tie",
                reply=resp.text[:200],
            )
        return verdict

    async def match(
        self, run: StrategyRun, x: Candidate, y: Candidate, rnd: int
    ) -> tuple[Candidate, dict[str, Any]]:
        """Judge x vs y (x has the lower index); returns the winner and the match record."""
        record: dict[str, Any] = {"round": rnd, "a": x.index, "b": y.index}
        if normalize_text(x.text) == normalize_text(y.text):
            record.update(verdict="identical", winner=x.index, orders=[])
            run.note("match", **record)
            return x, record
        orders: list[str | None] = []
        v1 = await self._judge(run, x, y)  # x shown as A
        orders.append(v1)
        v2: str | None = None
        if self.cfg.both_orders and not run.stopped:
            v2 = await self._judge(run, y, x)  # y shown as A
            orders.append(v2)
        # translate both orders to "x", "y" or "tie"
        r1 = {"A": "x", "B": "y"}.get(v1 or "", "tie")
        if self.cfg.both_orders and len(orders) == 2:
            r2 = {"A": "y", "B": "x"}.get(v2 or "", "tie")
            verdict = r1 if r1 == r2 else "tie"
            consistent = r1 == r2
        else:
            verdict, consistent = r1, True
        winner = y if verdict == "y" else x  # a tie goes to the lower index
        record.update(orders=orders, verdict=verdict, consistent=consistent, winner=winner.index)
        run.note("match", **record)
        return winner, record

    async def _solve(self, run: StrategyRun) -> Answer:
        await run.run_children(self._jobs(), self.inner, run.sample)
        alive = [c for c in run.candidates if c.ok]
        if not alive:
            return run.give_up()
        wins = {c.index: 0 for c in alive}
        matches: list[dict[str, Any]] = []
        rnd = 0
        while len(alive) > 1 and not run.stopped:
            rnd += 1
            nxt: list[Candidate] = []
            for k in range(0, len(alive) - 1, 2):
                if run.stopped:  # budget: the rest go through unjudged
                    nxt.extend(alive[k : k + 2][:1])
                    continue
                winner, record = await self.match(run, alive[k], alive[k + 1], rnd)
                matches.append(record)
                wins[winner.index] += 1
                nxt.append(winner)
            if len(alive) % 2:
                nxt.append(alive[-1])  # a bye
            alive = nxt
        # stopped early: the candidate with most wins so far (lowest index on ties)
        champion = (
            alive[0] if len(alive) == 1 else min(alive, key=lambda c: (-wins[c.index], c.index))
        )
        for c in run.candidates:
            c.extra["wins"] = wins.get(c.index, 0)
        return run.finish(champion, matches=matches, rounds=rnd)

"""`PlanningLoop`: a MagenticOne-style orchestrator over a team.

The orchestrator (a model, asked for structured output) keeps two ledgers:
- the **task ledger**: the facts it knows and guesses, and a plan (made at the start and
  again at each re-plan);
- the **progress ledger**, each round: is the request satisfied, is progress being made,
  are we in a loop, who speaks next and with what instruction.

No progress (or a loop) for `max_stalls` rounds in a row triggers a re-plan: a new task
ledger made with what was learned. More than `max_replans` re-plans — repeated failure —
stops the loop with the reason recorded; so does `max_rounds`. Every orchestrator call
and every team turn is a child run and a checkpoint.

    loop = PlanningLoop({"researcher": "researcher", "coder": "coder"}, max_stalls=2)
    answer = loop.run("Find why test_calc fails and fix it", gw, workspace="ws")
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from forgekit.agents.orchestration import Runnable, Turns
from forgekit.agents.plans import from_answer
from forgekit.agents.workflow import resolve_solver
from forgekit.core.component import Component
from forgekit.core.context import RunContext, Solver
from forgekit.core.errors import ConfigError
from forgekit.core.events import NoteEvent
from forgekit.core.messages import Message, Usage
from forgekit.core.samples import Answer, Sample

ORCHESTRATOR = "You are the orchestrator of a team of agents working on a task."


class TaskLedger(BaseModel):
    """Facts (given, to look up, guessed) and the plan."""

    model_config = ConfigDict(extra="forbid")

    facts: list[str] = Field(default_factory=list)
    plan: list[str] = Field(default_factory=list)


class ProgressLedger(BaseModel):
    """The orchestrator's judgement after each round."""

    model_config = ConfigDict(extra="forbid")

    is_request_satisfied: bool
    is_progress_being_made: bool
    is_in_loop: bool = False
    next_speaker: str = ""
    instruction: str = ""
    final_answer: str = ""
    reason: str = ""


class _Orchestrate:
    """One structured orchestrator call as a solver (so it is a recorded, checkpointed turn)."""

    def __init__(self, schema: type[BaseModel], messages: list[Message], model: str | None,
                 max_revisions: int) -> None:
        self.schema = schema
        self.messages = messages
        self.model = model
        self.max_revisions = max_revisions
        self.name = "orchestrator"

    def config(self) -> dict[str, Any]:
        return {"type": "orchestrator", "schema": self.schema.__name__, "model": self.model}

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        from forgekit.agents.structured import StructuredOutputError, complete_structured

        try:
            data = await complete_structured(ctx, self.messages, self.schema, model=self.model,
                                             max_revisions=self.max_revisions)
        except StructuredOutputError as e:
            return Answer(text=e.last_text, stop_reason=f"unreadable {self.schema.__name__}: {e}")
        return Answer(text=data.model_dump_json(), data=data)


class PlanningLoop(Runnable, Component, type="planning_loop", kind="solver"):
    """A ledger-keeping orchestrator over a team (see the module docstring)."""

    def __init__(self, team: dict[str, Any], *, model: str | None = None, max_rounds: int = 10,
                 max_stalls: int = 2, max_replans: int = 2, max_revisions: int = 1,
                 name: str = "planning_loop") -> None:
        if not team:
            raise ConfigError("a planning loop needs a team of at least one agent", key="team")
        for key, value in (("max_rounds", max_rounds), ("max_stalls", max_stalls)):
            if value < 1:
                raise ConfigError(f"{key} must be >= 1", key=key)
        self.team = {k: resolve_solver(v, what=f"team.{k}") for k, v in team.items()}
        self.model = model
        self.max_rounds = max_rounds
        self.max_stalls = max_stalls
        self.max_replans = max_replans
        self.max_revisions = max_revisions
        self.name = name

    def _roster(self) -> str:
        return "\n".join(f"- {k}: {getattr(v, 'description', '') or k}"
                         for k, v in self.team.items())

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        turns = Turns(ctx, self, sample, note="planning_turn")
        try:
            return await _Loop(self, turns).go()
        finally:
            turns.close()


class _Loop:
    def __init__(self, pl: PlanningLoop, turns: Turns) -> None:
        self.pl, self.turns = pl, turns
        self.task = turns.sample.input_text()
        self.history: list[dict[str, str]] = []
        self.usage, self.cost = Usage(), 0.0
        self.counts: dict[str, int] = {}

    def _key(self, name: str) -> str:
        self.counts[name] = self.counts.get(name, 0) + 1
        return f"{name}#{self.counts[name]}"

    async def _turn(self, name: str, solver: Solver, text: str, **tags: str) -> Answer:
        sample = self.turns.sample.model_copy(update={"input": text})
        answer = await self.turns.turn(self._key(name), solver, sample, label=name, tags=tags)
        self.usage += answer.usage
        self.cost += answer.cost_usd
        return answer

    def _note(self, kind: str, **data: Any) -> None:
        self.turns.ctx.emit(NoteEvent(kind=kind, data=data))

    def _done_so_far(self) -> str:
        if not self.history:
            return "Nothing has been done yet."
        return "\n".join(f"- {h['speaker']} was asked: {h['instruction']}\n  and answered: "
                         f"{h['answer'][:1500]}" for h in self.history[-10:])

    async def _ledger(self, previous: TaskLedger | None) -> TaskLedger | None:
        pl = self.pl
        ask = (f"Task:\n{self.task}\n\nTeam:\n{pl._roster()}\n\n"
               + ("List the facts given, the facts to look up and your educated guesses, "
                  "then a short plan (which agent does what)." if previous is None else
                  f"The plan was not working. Previous ledger:\n{previous.model_dump_json()}\n"
                  f"What happened:\n{self._done_so_far()}\n\nUpdate the facts with what was "
                  f"learned and make a new plan that avoids what failed."))
        msgs = [Message.system(ORCHESTRATOR), Message.user(ask)]
        answer = await self._turn("ledger", _Orchestrate(TaskLedger, msgs, pl.model,
                                                         pl.max_revisions), ask, stage="ledger")
        try:
            ledger = from_answer(answer, TaskLedger)
        except ValueError:
            return None
        self._note("ledger", facts=ledger.facts, plan=ledger.plan, replan=previous is not None)
        return ledger

    async def _progress(self, ledger: TaskLedger, round_: int) -> ProgressLedger | None:
        pl = self.pl
        ask = (f"Task:\n{self.task}\n\nTeam:\n{pl._roster()}\n\nFacts:\n"
               + "\n".join(f"- {f}" for f in ledger.facts) + "\n\nPlan:\n"
               + "\n".join(f"- {p}" for p in ledger.plan)
               + f"\n\nWhat happened:\n{self._done_so_far()}\n\nRound {round_}: is the request "
               f"satisfied (then give final_answer)? Is progress being made? Are we in a "
               f"loop? Who speaks next ({', '.join(pl.team)}) and with what instruction?")
        msgs = [Message.system(ORCHESTRATOR), Message.user(ask)]
        answer = await self._turn("progress", _Orchestrate(ProgressLedger, msgs, pl.model,
                                                           pl.max_revisions), ask,
                                  stage="progress")
        try:
            return from_answer(answer, ProgressLedger)
        except ValueError:
            return None

    async def go(self) -> Answer:
        pl = self.pl
        ledger = await self._ledger(None)
        if ledger is None:
            return self._end("", "stopped: the orchestrator gave no readable task ledger")
        stalls = replans = 0
        last = ""
        for round_ in range(1, pl.max_rounds + 1):
            progress = await self._progress(ledger, round_)
            if progress is not None:
                self._note("progress", round=round_, **progress.model_dump())
            if progress is not None and progress.is_request_satisfied:
                return self._end(progress.final_answer or last,
                                 f"completed: {progress.reason or 'request satisfied'}",
                                 rounds=round_, replans=replans)
            stalled = (progress is None or not progress.is_progress_being_made
                       or progress.is_in_loop or progress.next_speaker not in pl.team)
            stalls = stalls + 1 if stalled else max(0, stalls - 1)
            if stalls >= pl.max_stalls:
                replans += 1
                if replans > pl.max_replans:
                    return self._end(last, f"stopped: repeated failure, no progress after "
                                           f"{pl.max_replans} re-plan(s)",
                                     rounds=round_, replans=replans - 1)
                self._note("replan", round=round_, stalls=stalls, replan=replans)
                new = await self._ledger(ledger)
                ledger = new or ledger
                stalls = 0
                continue
            if progress is None or progress.next_speaker not in pl.team:
                continue
            speaker = progress.next_speaker
            instruction = progress.instruction or "Continue the task."
            text = (f"Task:\n{self.task}\n\nWhat happened so far:\n{self._done_so_far()}"
                    f"\n\nYour instruction now: {instruction}")
            answer = await self._turn(speaker, pl.team[speaker], text, agent=speaker)
            last = answer.text
            self.history.append({"speaker": speaker, "instruction": instruction,
                                 "answer": answer.text})
        return self._end(last, f"max_rounds: {pl.max_rounds} round(s) without the request "
                               f"satisfied", rounds=pl.max_rounds, replans=replans)

    def _end(self, text: str, reason: str, **meta: Any) -> Answer:
        return Answer(text=text, stop_reason=reason, usage=self.usage, cost_usd=self.cost,
                      metadata={**meta, "turns": [h["speaker"] for h in self.history]},
                      data={"history": self.history})

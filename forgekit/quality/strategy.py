"""The common machinery of every quality strategy: child runs, judge calls, budget
handling, notes and the metadata a strategy reports.

A strategy is a Solver wrapping another Solver. Each candidate (or debate participant)
runs as a child run of the strategy's run, with its own `attempt` number so that the
gateway's response cache keeps repeated calls apart; judges' calls are made in the
strategy's own run; votes, scores and the final choice are `NoteEvent`s of that run.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from forgekit.core.component import Component, config_of
from forgekit.core.context import (
    EventSink,
    MemorySink,
    ModelClient,
    RunContext,
    Solver,
    SpendLimit,
)
from forgekit.core.errors import BudgetExceeded, ConfigError
from forgekit.core.events import NoteEvent
from forgekit.core.messages import Message, ModelResponse
from forgekit.core.samples import Answer, Sample
from forgekit.core.sync import run_sync
from forgekit.core.totals import RunTotals
from forgekit.quality.meter import meter_totals, metered

if TYPE_CHECKING:
    from forgekit.quality.result import StrategyResult

# attempts of a strategy's sub-runs are ctx.attempt * ATTEMPT_STRIDE + k (k = 1, 2, ...)
ATTEMPT_STRIDE = 1000


class StrategyConfig(BaseModel):
    """Options every strategy has."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None  # display name; default "<kind>(<inner name>)"
    concurrency: int = 1  # candidates run at once (1: in order, stops exactly on budget)


def sampling_params(temperature: float | None, seed: int | None, i: int) -> dict[str, Any]:
    """Call parameters of a strategy's i-th candidate: its temperature (None: the inner
    solver's own) and, when it samples, seed + i so candidates differ but reproduce."""
    params: dict[str, Any] = {}
    if temperature is not None:
        params["temperature"] = temperature
        if seed is not None and temperature > 0:
            params["seed"] = seed + i
    return params


@dataclass
class Candidate:
    """One child run of a strategy (a candidate answer, an attempt, a debate turn)."""

    index: int
    role: str
    attempt: int
    run_id: str = ""
    model: str | None = None
    answer: Answer | None = None
    status: str = "completed"  # completed | failed | budget-exceeded
    error: str | None = None
    meter: RunTotals = field(default_factory=RunTotals)
    key: str | None = None  # normalised answer (votes)
    score: float | None = None  # reviewer / judge score
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.answer is not None and self.status == "completed"

    @property
    def text(self) -> str:
        return self.answer.text if self.answer is not None else ""

    def row(self) -> dict[str, Any]:
        """A JSON-ready summary for `Answer.metadata["candidates"]`."""
        return {
            "index": self.index,
            "role": self.role,
            "text": self.text,
            "key": self.key,
            "score": self.score,
            "status": self.status,
            "error": self.error,
            "model": self.model,
            "attempt": self.attempt,
            "run_id": self.run_id,
            **meter_totals(self.meter),
            **self.extra,
        }


def message_text(messages: list[Message] | str) -> list[Message]:
    return [Message.user(messages)] if isinstance(messages, str) else messages


class StrategyRun:
    """The state of one `solve` of a strategy: meters, candidates, notes, stop reason."""

    def __init__(self, strategy: Strategy, sample: Sample, ctx: RunContext) -> None:
        self.strategy = strategy
        self.sample = sample
        self.ctx = ctx
        self.meter = RunTotals()
        self.judge_meter = RunTotals()
        self.sctx = metered(ctx, self.meter)
        self.candidates: list[Candidate] = []
        self.notes: list[dict[str, Any]] = []
        self.stop_reason: str | None = None
        self._attempts = itertools.count(1)

    # -- bookkeeping -------------------------------------------------------------------
    def next_attempt(self) -> int:
        return self.ctx.attempt * ATTEMPT_STRIDE + next(self._attempts)

    def note(self, kind: str, **data: Any) -> None:
        """Record a NoteEvent (vote, score, choice, fallback, stop) in the strategy's run."""
        self.ctx.emit(NoteEvent(kind=kind, data={"strategy": self.strategy.kind, **data}))
        self.notes.append({"kind": kind, **data})

    def stop(self, reason: str, **data: Any) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
            self.note("stop", reason=reason, **data)

    @property
    def stopped(self) -> bool:
        return self.stop_reason is not None

    def budget_left(self) -> bool:
        """False (and the run stopped) when the run's budget is already used up."""
        budget = self.ctx.budget
        if budget is not None and getattr(budget, "exhausted", False):
            self.stop("budget", detail="budget exhausted before the next call")
        return not self.stopped

    # -- child runs --------------------------------------------------------------------
    async def run_child(
        self,
        solver: Solver,
        sample: Sample,
        *,
        role: str = "candidate",
        model: str | None = None,
        params: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Candidate:
        """Run `solver` as a child run; never raises for a failed or refused candidate."""
        cand = Candidate(
            index=len(self.candidates),
            role=role,
            attempt=self.next_attempt(),
            model=model,
            extra=dict(extra or {}),
        )
        self.candidates.append(cand)
        return await self._run(cand, solver, sample, model, params)

    async def run_children(
        self, jobs: list[dict[str, Any]], solver: Solver, sample: Sample
    ) -> list[Candidate]:
        """Run several children (each job: role/model/params/extra), `concurrency` at a
        time; once the budget stops the run, jobs not yet started are skipped."""
        cands = []
        for job in jobs:
            cand = Candidate(
                index=len(self.candidates),
                role=job.get("role", "candidate"),
                attempt=self.next_attempt(),
                model=job.get("model"),
                extra=dict(job.get("extra") or {}),
            )
            self.candidates.append(cand)
            cands.append((cand, job))
        sem = asyncio.Semaphore(max(1, self.strategy.cfg.concurrency))

        async def one(cand: Candidate, job: dict[str, Any]) -> Candidate:
            async with sem:
                if not self.budget_left():
                    cand.status = "skipped"
                    return cand
                return await self._run(cand, solver, sample, job.get("model"), job.get("params"))

        done = await asyncio.gather(*(one(c, j) for c, j in cands))
        # skipped jobs are not candidates
        self.candidates = [c for c in self.candidates if c.status != "skipped"]
        for i, c in enumerate(self.candidates):
            c.index = i
        return [c for c in done if c.status != "skipped"]

    async def _run(
        self,
        cand: Candidate,
        solver: Solver,
        sample: Sample,
        model: str | None,
        params: dict[str, Any] | None,
    ) -> Candidate:
        cctx = metered(self.sctx, cand.meter, model=model, params=params)
        child = cctx.child(
            f"{self.strategy.kind}/{cand.role}",
            attempt=cand.attempt,
            config=_safe_config(solver),
            sample_id=sample.id,
            models=[m for m in [model or cctx.model] if m],
            params={
                "index": cand.index,
                "role": cand.role,
                "attempt": cand.attempt,
                **(params or {}),
            },
            tags={"strategy": self.strategy.kind, "role": cand.role},
        )
        child = replace(child, sample=sample)
        cand.run_id = child.run_id

        def totals() -> dict[str, Any]:
            if callable(getattr(child.sink, "finish", None)):
                return {}  # a recorder sums its own events (children included)
            return cand.meter.run_end_fields()

        try:
            answer = await solver.solve(sample, child)
        except BudgetExceeded as e:
            cand.status, cand.error = "budget-exceeded", str(e)
            self.stop("budget", detail=str(e), at=cand.role, index=cand.index)
            child.end(
                None, status="budget-exceeded", error=str(e), stop_reason="budget", **totals()
            )
            return cand
        except Exception as e:  # one failed candidate does not sink the strategy
            cand.status, cand.error = "failed", f"{type(e).__name__}: {e}"
            self.note("candidate_failed", index=cand.index, role=cand.role, error=cand.error)
            child.end(None, status="failed", error=cand.error, **totals())
            return cand
        cand.answer = answer
        if answer.stop_reason == "budget":  # a nested strategy ran out: so do we
            self.stop("budget", detail="inner solver stopped on budget", index=cand.index)
        child.end(answer, status="completed", stop_reason=answer.stop_reason, **totals())
        return cand

    # -- judge calls -------------------------------------------------------------------
    async def call(
        self,
        messages: list[Message] | str,
        *,
        model: str | None = None,
        purpose: str = "judge",
        **params: Any,
    ) -> ModelResponse | None:
        """One judge/moderator call in the strategy's run; None when refused or failed
        (the reason is recorded, the caller falls back)."""
        if not self.budget_left():
            return None
        jctx = metered(self.sctx, self.judge_meter, inherit=False)
        jctx = replace(jctx, attempt=self.next_attempt())
        try:
            return await jctx.complete(message_text(messages), model=model, **params)
        except BudgetExceeded as e:
            self.stop("budget", detail=str(e), at=purpose)
            return None
        except Exception as e:
            self.note("fallback", purpose=purpose, reason=f"call failed: {type(e).__name__}: {e}")
            return None

    async def pick(
        self,
        prompt: str,
        n: int,
        *,
        model: str | None,
        purpose: str,
        max_tokens: int,
        fallback_reason: str,
    ) -> tuple[int | None, str]:
        """Ask a judge to pick one of `n` numbered options (greedy). Returns the 0-based
        index and the judge's reply (clipped); an unreadable or refused reply gives None
        and a recorded fallback note (the caller picks its default), never an exception."""
        from forgekit.quality.verdicts import (
            STRUCTURED_NOTE,
            choice_format,
            json_field,
            parse_index,
            supports_schema,
        )

        params: dict[str, Any] = {"temperature": 0.0, "max_tokens": max_tokens}
        if supports_schema(self.sctx, model):  # the endpoint enforces the shape
            prompt += STRUCTURED_NOTE.format(shape=f'{{"choice": <1-{n}>}}')
            params.update(response_format=choice_format(n), max_tokens=max(max_tokens, 24))
        resp = await self.call(prompt, model=model, purpose=purpose, **params)
        reply = resp.text[:200] if resp is not None else None
        picked = None
        if resp is not None:
            choice = json_field(resp.text, "choice")
            if isinstance(choice, int) and 1 <= choice <= n:
                picked = choice - 1
            else:
                picked = parse_index(resp.text, n)
        if picked is None:
            self.note("fallback", purpose=purpose, reason=fallback_reason, reply=reply)
        return picked, reply or ""

    # -- the answer --------------------------------------------------------------------
    def give_up(self) -> Answer:
        """No usable candidate: an empty answer when the budget stopped us, else an error."""
        if self.stop_reason != "budget":
            from forgekit.core.errors import ModelError

            errors = "; ".join(c.error or c.status for c in self.candidates) or "none ran"
            raise ModelError(f"{self.strategy.kind}: no candidate succeeded ({errors})")
        return self.finish(None)

    def finish(
        self, chosen: Candidate | None, *, answer: Answer | None = None, **details: Any
    ) -> Answer:
        """The strategy's Answer: the chosen candidate's (or `answer`), with the strategy's
        candidates, details, choice, own calls and cost in `metadata`."""
        base = answer or (chosen.answer if chosen is not None and chosen.answer else None)
        out = base.model_copy(deep=True) if base is not None else Answer(text="")
        inner_meta = dict(out.metadata)
        totals = meter_totals(self.meter)
        meta: dict[str, Any] = {
            "strategy": self.strategy.kind,
            "strategy_name": self.strategy.name,
            "chosen": chosen.index if chosen is not None else None,
            "candidates": [c.row() for c in self.candidates],
            **details,
            **totals,
            "judge_calls": self.judge_meter.model_calls,
            "judge_cost_usd": round(self.judge_meter.cost_usd, 10),
            "stop_reason": self.stop_reason,
            "notes": self.notes,
        }
        if inner_meta:
            meta["inner"] = inner_meta
        out.metadata = meta
        out.cost_usd = self.meter.cost_usd
        out.usage = self.meter.usage
        if self.stop_reason == "budget":
            out.stop_reason = "budget"
        self.note(
            "choice",
            chosen=meta["chosen"],
            answer=out.text[:500],
            calls=totals["calls"],
            cost_usd=totals["cost_usd"],
        )
        return out


def _safe_config(solver: Any) -> dict[str, Any]:
    try:
        return config_of(solver)
    except Exception as e:  # a solver without a usable config still runs
        return {"error": f"config() failed: {e}"}


def callable_name(fn: Any) -> str | None:
    if fn is None:
        return None
    if isinstance(fn, str):
        return fn
    mod = getattr(fn, "__module__", None)
    qual = getattr(fn, "__qualname__", None) or type(fn).__name__
    return f"{mod}:{qual}" if mod else qual


def load_callable(spec: Any, key: str) -> Any:
    """Accept a callable, or ``"package.module:function"`` (from YAML) and import it."""
    if spec is None or callable(spec):
        return spec
    if isinstance(spec, str) and ":" in spec:
        from forgekit.core.component import resolve_ref

        return resolve_ref(spec, key=key)
    raise ConfigError(f"expected a callable or 'module:function', got {spec!r}", key=key)


async def maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class Strategy(Component, kind="solver"):
    """Base class of the quality strategies (a Solver wrapping a Solver). Each subclass
    is a component (``class BestOfN(Strategy, type="best_of_n")``): its config is the
    inner solver's config and the options that differ from their defaults."""

    kind: ClassVar[str] = "strategy"
    Config: ClassVar[type[StrategyConfig]] = StrategyConfig

    def __init__(self, inner: Solver, **options: Any) -> None:
        if not hasattr(inner, "solve"):
            raise ConfigError(
                f"{self.kind}: inner must be a Solver (an object with "
                f"async solve(sample, ctx)), got {type(inner).__name__}",
                key="inner",
            )
        self.inner = inner
        try:
            self.cfg = self.Config(**options)
        except ValidationError as e:
            first = e.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            raise ConfigError(
                f"{self.kind}: {first['msg']} (got {first.get('input')!r})", key=key
            ) from e

    @property
    def name(self) -> str:
        return self.cfg.name or f"{self.kind}({getattr(self.inner, 'name', 'solver')})"

    def config_args(self) -> dict[str, Any]:
        """The inner solver and the options that differ from their defaults (callables
        by their import name)."""
        return {"inner": self.inner, **self.cfg.model_dump(mode="json", exclude_defaults=True)}

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        run = StrategyRun(self, sample, ctx)
        return await self._solve(run)

    async def _solve(self, run: StrategyRun) -> Answer:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(
        self,
        sample: Sample | str,
        gateway: ModelClient | None = None,
        *,
        model: str | None = None,
        budget: SpendLimit | None = None,
        sink: EventSink | None = None,
        seed: int | None = None,
    ) -> StrategyResult:
        """Solve one sample from plain code or a notebook cell; returns a StrategyResult
        (renders its candidates, votes/scores and choice)."""
        from forgekit.quality.result import StrategyResult

        if isinstance(sample, str):
            sample = Sample(id="adhoc", input=sample)
        if gateway is None:
            from forgekit.models import Gateway

            gateway = Gateway()
        sink = sink if sink is not None else MemorySink()
        ctx = RunContext(
            gateway=gateway, sink=sink, model=model, budget=budget, sample=sample, seed=seed
        )
        answer = run_sync(self.solve(sample, ctx))
        return StrategyResult(answer, sample=sample, sink=sink)

    def _repr_html_(self) -> str:
        from forgekit.quality.result import config_html

        return config_html(self.name, config_of(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


CheckFn = Callable[[Answer, Sample], Any]

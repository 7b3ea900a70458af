"""The batch runner: models x solvers x samples x epochs, async with a concurrency limit
per model, a live progress bar, per-sample trajectories, resume and a run budget.

It runs an `EvalPlan` (objects: labelled solvers, samples, scorers); a YAML `Suite`
compiles to one first. Resume is per record: a finished result is reused only when its
run key (the solver's config hash, the sample's input, seed, limits) matches, and scored
again without running the solver when only the target or the scorers changed (see
`forgekit.evals.identity`)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forgekit.core.context import MemorySink, RunContext
from forgekit.core.errors import BudgetExceeded
from forgekit.core.events import RunStatus, ScoreEvent
from forgekit.core.hashing import stable_hash
from forgekit.core.redact import redact, redact_text, secret_values
from forgekit.core.samples import Answer, Sample, Score
from forgekit.core.totals import RunTotals
from forgekit.evals.identity import (
    RESCORE,
    REUSE,
    reuse_of,
    run_key,
    score_key,
)
from forgekit.evals.inputs import SolverEntry
from forgekit.evals.limits import check_limit
from forgekit.evals.lock import EvalLock
from forgekit.evals.objects import EvalPlan
from forgekit.evals.resultlog import ResultLog
from forgekit.evals.sample_result import SampleLine, SampleResult, score_data
from forgekit.evals.sinks import LimitExceeded, TallySink, dumps
from forgekit.evals.suite import Suite
from forgekit.trajectory.recorder import Recorder

if TYPE_CHECKING:
    from forgekit.evals.spend import EvalBudget
    from forgekit.models.gateway import Gateway

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _frozen_heap() -> Any:
    """Move every object alive before the run to the collector's permanent generation
    for the run's duration (`gc.freeze`), so that the many collections a run of
    thousands of calls triggers do not re-traverse the same imported modules, litellm's
    price map and the suite. Measured in `benchmarks/runner`: about 0.5 ms of CPU less
    per sample on a 2-core machine. Unfrozen afterwards, so nothing leaks past the run.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class _Keys(dict[str, str]):
    """A dict that computes a missing key's value with `make` and keeps it."""

    def __init__(self, make: Callable[[str], str]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: str) -> str:
        value = self[key] = self.make(key)
        return value


def sample_seed(base: int, sample_id: str, epoch: int) -> int:
    """The seed of one sample/epoch: the same for every model and solver (so runs pair)."""
    return int(stable_hash([base, sample_id, epoch], 8), 16)


def _redacted_scores(scores: list[Score]) -> list[Score]:
    """The scores with every secret value redacted (no secret in any result): a score
    with nothing to redact is kept as it is, others are rebuilt from redacted data."""
    secrets = secret_values()
    out = []
    for s in scores:
        data = score_data(s)
        clean = redact(data, secrets)
        out.append(s if type(s) is Score and clean == data else Score.model_validate(clean))
    return out


@dataclass
class _Live:
    """Running totals behind the progress bar."""

    total: int
    done: int = 0
    scored: int = 0
    score_sum: float = 0.0
    errors: int = 0  # samples that did not complete
    spent: RunTotals = field(default_factory=RunTotals)  # calls, tokens, cost so far
    bar: Any = None
    limits: Any = None  # () -> {alias: snapshot}: the gateway's adaptive concurrency

    def update(self, rec: SampleResult | SampleLine) -> None:
        self.done += 1
        if rec.status != "completed":
            self.errors += 1
        if rec.score is not None:
            self.scored += 1
            self.score_sum += rec.score
        self.spent += rec.totals
        if self.bar is not None:
            acc = self.score_sum / self.scored if self.scored else 0.0
            extra = ""
            if self.limits is not None:
                extra = "".join(f" {a}<={s['current']}" for a, s in self.limits().items())
            self.bar.set_postfix_str(
                f"acc={acc:.3f} cost=${self.spent.cost_usd:.4f} errors={self.errors}{extra}",
                refresh=False,
            )
            self.bar.update(1)


def _progress_bar(total: int, desc: str, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="sample", dynamic_ncols=True)


class Runner:
    """Runs one evaluation (an `EvalPlan`, or a `Suite` it compiles) on a gateway,
    writing results and trajectories under `out_dir`."""

    live_cls: type[_Live]  # set in a worker process (executors.worker_payload)

    def __init__(
        self,
        suite: Suite | EvalPlan,
        gateway: Gateway,
        *,
        out_dir: str | Path | None = None,
        models: list[str] | None = None,
        limit: int | None = None,
        progress: bool = True,
        retry_errors: bool = False,
        wait: bool = False,
        workers: int = 1,
        executor: Any = None,
        address: str | None = None,
    ) -> None:
        from forgekit.evals.executor_choice import make_executor

        check_limit(limit)
        if isinstance(suite, Suite):
            plan = suite.build(models=models, limit=limit)
        else:
            plan = suite
            if models:
                plan = replace(plan, models=list(models), _hash=None)
            if limit is not None:
                plan = replace(plan, samples=plan.samples[:limit], _hash=None)
        # `suite` is the plan (a YAML suite compiles to one); the name stays for the code
        # below, which reads models, epochs, limits, budget, seed and name from it
        self.suite = self.plan = plan
        self.gateway = gateway
        self.hash = plan.config_hash()
        self.eval_id = f"{plan.name}-{self.hash[:10]}"
        self.shared_dir: Path | None = None  # sibling evaluations whose results we reuse
        if out_dir is None:
            root = getattr(getattr(gateway, "config", None), "root", None)
            if root is None:
                from forgekit.core.config import project_root

                root = project_root()
            self.shared_dir = Path(root) / ".forgekit" / "evals"
            out_dir = self.shared_dir / self.eval_id
        self.out_dir = Path(out_dir)
        self.runs_dir = self.out_dir / "runs"
        self.samples: list[Sample] = plan.samples
        self.solvers: list[SolverEntry] = plan.solvers
        self.scorers = plan.scorers
        self.progress = progress
        self.retry_errors = retry_errors
        self.wait = wait
        # where samples run (this process, worker processes, Ray) and how many at once
        self.executor = make_executor(executor, workers=workers, address=address)
        self.concurrency = plan.concurrency
        self.not_run = 0  # samples not started because the budget stopped the run
        self.live: _Live | None = None
        self.log = ResultLog(self.out_dir)
        self.budget: EvalBudget | None = None  # the eval's budget, opened (with what was spent) by run()
        self.stopped: str | None = None  # why the run stopped early ("budget: ...")
        # what keys a sample's results: computed once per sample
        self._sample_hash: dict[str, str] = {}
        self._input_hash: dict[str, str] = {}
        for sid, (full, inp) in plan.sample_hashes.items():
            self._sample_hash[sid], self._input_hash[sid] = full, inp
        self._limits = plan.limits.model_dump(exclude_none=True)  # a copy per sample's ctx
        # a sample's score key, hashed when first asked for (not all up front: a worker
        # process needs only its own samples', and a fresh run's parent none)
        self._score_key = _Keys(
            lambda sid: score_key(self._sample_hash[sid], plan.scorers_hash, plan.pass_threshold)
        )
        self._run_keys: dict[tuple[str, str, int], str] = {}
        self._seeds: dict[tuple[str, int], int] = {}

    def seed_of(self, sample: Sample, epoch: int) -> int:
        """`sample_seed` of a sample/epoch of this run (computed once)."""
        seed = self._seeds.get((sample.id, epoch))
        if seed is None:
            seed = self._seeds[(sample.id, epoch)] = sample_seed(self.suite.seed, sample.id, epoch)
        return seed

    def run_key(self, solver: SolverEntry, sample: Sample, epoch: int) -> str:
        key = (solver.label, sample.id, epoch)
        if key not in self._run_keys:
            seed = self.seed_of(sample, epoch)
            self._run_keys[key] = run_key(
                solver.hash, self._input_hash[sample.id], seed, self.plan.limits_data
            )
        return self._run_keys[key]

    # -- the grid ---------------------------------------------------------------------

    def grid(self) -> list[tuple[str, SolverEntry, int, Sample, int]]:
        """(model, solver, sample index, sample, epoch) in the order of the final table."""
        return [
            (m, s, i, smp, e)
            for m in self.suite.models
            for s in self.solvers
            for i, smp in enumerate(self.samples)
            for e in range(self.suite.epochs)
        ]

    def _write_config(self, **extra: Any) -> None:
        meta = {
            "eval_id": self.eval_id,
            "suite_hash": self.hash,
            "suite": self.plan.describe(),
            "spec": self.plan.spec,
            "source": self.plan.source,
            "samples": len(self.samples),
            **extra,
        }
        path = self.out_dir / "suite.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(path)

    def _stored(self) -> dict[tuple, SampleResult]:
        """Finished records that may serve this run, by (position, run key): this
        evaluation's log, then (for the default location) the logs of evaluations of
        the same name, so changing one solver re-runs only that solver's cells."""
        logs = [self.log]
        if self.shared_dir is not None and self.shared_dir.is_dir():
            logs[:0] = [
                ResultLog(d)
                for d in sorted(self.shared_dir.glob(f"{self.plan.name}-*"))
                if d != self.out_dir and (d / "results.jsonl").is_file()
            ]
        out: dict[tuple, SampleResult] = {}
        legacy = 0
        for rlog in logs:
            for rec in rlog.load().values():
                if rec.run_key is None:
                    legacy += rlog is self.log
                    continue
                if rec.finished:
                    out[(*rec.key, rec.run_key)] = rec
        if legacy:
            log.warning(
                "%s: %d result(s) were written by an older forgekit without run keys; "
                "EvalResults.load still reads them, but this run computes them again",
                self.out_dir,
                legacy,
            )
        return out

    async def run(self) -> Any:
        """Run what is not finished yet, merge, and return the EvalResults."""
        lock = EvalLock(self.out_dir, self.eval_id)
        await lock.acquire(wait=self.wait)  # one writer per eval
        try:
            return await self._run_locked()
        finally:
            finish = getattr(self.executor, "finish", None)
            if callable(finish):  # worker processes that finished exit meanwhile
                await finish()
            if self.budget is not None:
                self.budget.close()
            lock.release()

    def _open_budget(self) -> None:
        b = self.suite.budget
        if b.usd is not None or b.tokens is not None:
            from forgekit.evals.shared_budget import SharedEvalBudget
            from forgekit.evals.spend import EvalBudget

            # the gateway refuses calls beyond it, so in-flight samples stop too; it
            # starts from what earlier runs of this eval spent; worker processes share it
            slots = getattr(self.executor, "budget_slots", 0)
            opener = getattr(self.executor, "open_budget", None)
            if callable(opener):  # Ray: a budget actor that the actors share
                self.budget = opener(self.out_dir, b.usd, b.tokens)
            else:
                self.budget = (
                    SharedEvalBudget(self.out_dir, max_usd=b.usd, max_tokens=b.tokens,
                                     slots=slots + 1, create=True)
                    if slots else EvalBudget(self.out_dir, max_usd=b.usd, max_tokens=b.tokens)
                )
            reason = self.budget.stop_reason
            self.stopped = f"budget: {reason}" if reason else None

    async def _run_locked(self) -> Any:
        from forgekit.evals.preflight import preflight
        from forgekit.evals.results import EvalResults, write_stop

        preflight(self.plan, self.gateway)  # config mistakes fail before any model call
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self._open_budget()
        from forgekit.trajectory.leftovers import close_interrupted

        # runs a crash left open end as interrupted: their samples run again
        close_interrupted(self.runs_dir, f"eval {self.eval_id} resumed; the sample ran again")
        stored = self._stored()
        todo: list[tuple[str, SolverEntry, int, Sample, int]] = []
        rescore: list[tuple[tuple[str, SolverEntry, int, Sample, int], SampleResult]] = []
        kept: dict[tuple, SampleResult] = {}
        stored_cells = {k[:4] for k in stored}
        for g in self.grid():
            model, solver, index, sample, epoch = g
            key = (model, solver.label, sample.id, epoch)
            # a run key is hashed only for a cell with a stored record (a fresh run's
            # parent hashes none; a worker hashes its own samples' when it runs them)
            rec = (stored.get((*key, self.run_key(solver, sample, epoch)))
                   if key in stored_cells else None)
            how = None
            if rec is not None and not (self.retry_errors and rec.error):
                how = reuse_of(rec, self.run_key(solver, sample, epoch),
                               self._score_key[sample.id])
            if rec is not None and how == REUSE:
                if rec.sample_index != index:  # the task set was reordered
                    rec = rec.model_copy(update={"sample_index": index})
                kept[key] = rec
            elif rec is not None and how == RESCORE:
                rescore.append((g, rec))
            else:
                todo.append(g)
        live = _Live(total=len(todo) + len(rescore))
        live.bar = _progress_bar(live.total, self.suite.name, self.progress and live.total > 0)
        # adaptive concurrency: the gateway's, or its workers' (the executor collects them)
        limits = getattr(self.executor, "concurrency", None)
        if not callable(limits):
            limits = getattr(self.gateway, "concurrency", None)
        live.limits = limits if callable(limits) else None
        sems = {m: asyncio.Semaphore(self.suite.concurrency) for m in self.suite.models}
        new: dict[tuple, SampleLine] = {}

        def done(rec: SampleResult | SampleLine) -> None:
            key = rec.key
            if key in new:  # a resubmitted sample finished twice: the first one stands
                return
            if isinstance(rec, SampleResult):  # its line, made once: the log's and the table's
                rec = SampleLine.of(rec)
            # this process is the results log's only writer; the lines of one loop step
            # (a worker's batch) go out in one write
            self.log.append(rec, soon=True)
            new[key] = rec
            live.update(rec)

        self.live = live
        index_of = {(g[0], g[1].label, g[3].id, g[4]): i for i, g in enumerate(self.grid())}
        items = [index_of[(g[0], g[1].label, g[3].id, g[4])] for g in todo]

        async def again(item: tuple[str, SolverEntry, int, Sample, int], old: SampleResult) -> None:
            model, _solver, index, sample, epoch = item
            async with sems[model]:
                rec = await self._rescore(old, model, index, sample, epoch)
            done(rec)

        try:
            for key, rec in kept.items():  # found in another evaluation's log: copy it here
                if rec.eval_id != self.eval_id:
                    kept[key] = rec.model_copy(
                        update={"eval_id": self.eval_id, "suite_hash": self.hash})
                    self.log.append(kept[key])
            with _frozen_heap():
                await asyncio.gather(
                    self.executor.execute(self, items, done),
                    *(again(g, rec) for g, rec in rescore),
                )
        finally:
            self.log.close()
            if live.bar is not None:
                live.bar.close()
            if live.limits is not None and live.limits():
                self._write_config(concurrency=live.limits())  # what AIMD settled on
        records: list[SampleResult | SampleLine] = []
        for model, solver, _i, sample, epoch in self.grid():
            key = (model, solver.label, sample.id, epoch)
            got = new.get(key) or kept.get(key)
            if got is not None:
                records.append(got)
        self.log.merge(records)
        write_stop(self.out_dir, self.stopped, self.not_run, self.budget)
        return EvalResults.load(self.out_dir)

    # -- one sample -------------------------------------------------------------------

    def _base(
        self, model: str, solver: SolverEntry, index: int, sample: Sample, epoch: int
    ) -> dict[str, Any]:
        seed = self.seed_of(sample, epoch)
        secrets = secret_values()  # read once for the sample's fields
        return {
            "eval_id": self.eval_id,
            "suite_hash": self.hash,
            "model": model,
            "solver": solver.label,
            "sample_id": sample.id,
            "sample_index": index,
            "epoch": epoch,
            "seed": seed,
            # no secret value in any result
            "target": redact_text(dumps(sample.target), secrets),
            "input": redact_text(sample.input_text(), secrets),
            "solver_hash": solver.hash,
            "sample_hash": self._sample_hash[sample.id],
            "run_key": self.run_key(solver, sample, epoch),
            "score_key": self._score_key[sample.id],
        }

    async def _score(self, sample: Sample, answer: Answer, ctx: RunContext) -> list[Score]:
        scores = []
        for sc in self.scorers:
            s = await sc(sample, answer, ctx)
            scores.append(s)
            ctx.emit(
                ScoreEvent(
                    scorer=s.scorer,
                    value=s.value,
                    answer=s.answer,
                    target=sample.target,
                    explanation=s.explanation,
                    error=s.error,
                )
            )
        return scores

    def _scored(self, status: str, scores: list[Score]) -> dict[str, Any]:
        """The score fields of a result: the primary (first) scorer's value, every
        scorer's `Score` (redacted: no secret value in any result)."""
        primary = scores[0].as_float if scores else None
        if status == "failed":
            primary = 0.0  # a failed sample counts as wrong; its error says why
        return {
            "score": primary,
            "passed": None if primary is None else primary >= self.suite.pass_threshold,
            "scores": _redacted_scores(scores),
            "score_errors": sum(1 for s in scores if s.error),
        }

    async def _rescore(
        self, old: SampleResult, model: str, index: int, sample: Sample, epoch: int
    ) -> SampleResult:
        """A finished record whose target or scorers changed, scored again from its
        stored answer: no solver runs. Model calls of the new scoring (a judge) are
        added to the record's calls, tokens and cost; the trajectory keeps the score
        events of the first scoring."""
        solver = next(e for e in self.solvers if e.label == old.solver)
        rec = old.model_copy(
            update={**self._base(model, solver, index, sample, epoch), "finished_at": time.time()}
        )
        if old.status != "completed":
            return rec.model_copy(update=self._scored(old.status, []))
        sink = MemorySink()
        ctx = RunContext(
            gateway=self.gateway,
            sink=sink,
            model=model,
            sample=sample,
            epoch=epoch,
            seed=rec.seed,
            budget=self.budget,
        )
        scores = await self._score(sample, Answer(text=old.answer or ""), ctx)
        update = self._scored("completed", scores)
        judged = RunTotals.of(sink.events)
        if judged.model_calls:
            spent = rec.totals + judged
            for k in ("model_calls", "cost_usd", "input_tokens", "output_tokens"):
                update[k] = getattr(spent, k)
        return rec.model_copy(update=update)

    async def run_item(self, i: int, live: _Live) -> SampleResult | None:
        """Grid item `i` (an index into `grid()`), as executors run it; None when the
        budget stopped the run before it started."""
        if self.stopped:  # the budget is spent: the rest is not started
            self.not_run += 1
            return None
        grid = self.__dict__.get("_grid")
        if grid is None:
            grid = self._grid = self.grid()
        model, solver, index, sample, epoch = grid[i]
        return await self._run_one(model, solver, index, sample, epoch, live)

    async def _run_one(
        self, model: str, solver: SolverEntry, index: int, sample: Sample, epoch: int,
        live: _Live
    ) -> SampleResult:
        base = self._base(model, solver, index, sample, epoch)
        seed = base["seed"]
        limits = self.suite.limits
        recorder = Recorder.start(
            self.runs_dir,
            solver=solver.label,
            config=solver.config,
            config_hash=solver.hash,
            models=[model],
            sample_id=sample.id,
            epoch=epoch,
            seed=seed,
            params={"sample_index": index},
            tags={"eval_id": self.eval_id, "suite_hash": self.hash},
        )
        totals = RunTotals()
        sink = TallySink(recorder, totals, max_steps=limits.steps, max_tokens=limits.tokens)
        ctx = RunContext(
            gateway=self.gateway,
            sink=sink,
            model=model,
            sample=sample,
            epoch=epoch,
            seed=seed,
            budget=self.budget,
            limits=dict(self._limits),
        )
        status: RunStatus = "completed"
        error: str | None = None
        stop: str | None = None
        answer = Answer()
        t0 = time.perf_counter()
        try:
            coro = solver.solve(sample, ctx)  # the entry turns a str reply into an Answer
            answer = await (asyncio.wait_for(coro, limits.time_s) if limits.time_s else coro)
            stop = answer.stop_reason
        except TimeoutError:
            status, error = "failed", f"time limit: over {limits.time_s:g}s"
        except LimitExceeded as e:
            status, error = "failed", str(e)
        except BudgetExceeded as e:
            status, error = "budget-exceeded", f"BudgetExceeded: {e}"
            self.stopped = self.stopped or f"budget: {e}"
        except Exception as e:  # a failing sample is recorded and counted, never dropped
            status, error = "failed", redact_text(f"{type(e).__name__}: {e}")
        latency = time.perf_counter() - t0
        scores: list[Score] = []
        if status == "completed":
            sink.max_tokens = None  # judge calls do not count against the solver's limit
            scores = await self._score(sample, answer, ctx)
            pool: Any = getattr(solver, "solver", solver)
            if callable(getattr(pool, "record_outcome", None)):  # an experience pool
                try:
                    primary = scores[0].as_float if scores else None
                    await pool.record_outcome(sample, answer, primary, ctx)
                except Exception as e:  # the result counts even if the pool could not store it
                    log.warning("could not store the outcome of %s: %s", sample.id, e)
        try:
            sink.finish(
                status=status,
                answer=answer.text if status == "completed" else None,
                error=error,
                stop_reason=stop,
            )
        except Exception as e:  # never lose the result because the recorder failed
            log.warning("could not close trajectory of %s: %s", sample.id, e)
        return SampleResult(
            **base,
            status=status,
            error=error,
            answer=redact_text(answer.text) if status == "completed" else None,
            **self._scored(status, scores),
            input_tokens=totals.input_tokens,
            output_tokens=totals.output_tokens,
            cost_usd=totals.cost_usd,
            latency_s=latency,
            model_calls=totals.model_calls,
            steps=totals.steps,
            run_id=sink.run_id,
            trajectory=recorder.path_str,
            finished_at=time.time(),
        )

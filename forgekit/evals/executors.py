"""Where an evaluation's samples run: this process (`LocalExecutor`), N worker processes
on this machine (`ProcessExecutor`, `--workers N`), or Ray actors on a cluster
(`RayExecutor`, `--executor ray`, in `forgekit.evals.ray_executor`); `workers.py` holds
the process executor and `executor_choice.py` picks one from the CLI's words.

Whatever the executor, the parent process alone writes the results log (one writer,
records deduplicated by key), workers write their samples' trajectories under the
eval's `runs/`, and results, statistics and resume behave as in one process. A worker
that dies loses only its unfinished samples: they are run again (by a fresh worker),
and a record that arrives twice is kept once.

A worker rebuilds the runner from the suite (with its models and limit applied) and the
gateway from its project config — or, for a gateway given a source (a scripted source in
tests), from that source if it pickles. The suite's `concurrency` (samples in flight
per model) and each alias's `concurrency`, `max_concurrency` and `min_concurrency` are
shared among the workers (each gets its part), so N workers put no more load on a server
than one process. Worker processes share a run budget through a memory-mapped board
(`forgekit.evals.shared_budget`), Ray actors through a budget actor
(`forgekit.evals.ray_budget`).
"""

from __future__ import annotations

import asyncio
import logging
import pickle
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from forgekit.core.errors import ConfigError
from forgekit.evals.sample_result import SampleLine, SampleResult

if TYPE_CHECKING:
    from forgekit.evals.runner import Runner

log = logging.getLogger(__name__)

# a finished sample's record, delivered to the runner (worker processes send its line)
OnRecord = Callable[[SampleResult | SampleLine], None]


@runtime_checkable
class Executor(Protocol):
    """Runs grid items (indices into `runner.grid()`) and hands each record to
    `on_record` in the parent process, as soon as it is finished."""

    async def execute(self, runner: Runner, items: list[int], on_record: OnRecord) -> None: ...


async def run_items(runner: Runner, items: list[int], on_record: OnRecord, live: Any = None) -> None:
    """Run grid items in this process, `runner.concurrency` at once per model."""
    if live is None:  # a worker: its own running totals
        live = runner.live_cls(total=len(items))
        deliver = on_record

        def on_record(rec: SampleResult | SampleLine) -> None:
            live.update(rec)
            deliver(rec)

    grid = runner.grid()
    sems = {m: asyncio.Semaphore(runner.concurrency) for m in runner.suite.models}

    async def one(i: int) -> None:
        async with sems[grid[i][0]]:
            rec = await runner.run_item(i, live)
        if rec is not None:
            on_record(rec)

    await asyncio.gather(*(one(i) for i in items))


class LocalExecutor:
    """Every sample in this process, on its event loop (the default)."""

    async def execute(self, runner: Runner, items: list[int], on_record: OnRecord) -> None:
        await run_items(runner, items, on_record, getattr(runner, "live", None))


def merge_limits(per_worker: dict[int, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The adaptive concurrency limits of several workers' gateways, per alias: start,
    current, low, high, cuts, floor and ceiling summed over the workers (the run's
    totals; a sum of lows and highs bounds the total, the workers need not peak
    together), and each worker's own snapshot under ``workers``."""
    out: dict[str, dict[str, Any]] = {}
    for w in sorted(per_worker):
        for alias, snap in per_worker[w].items():
            agg = out.setdefault(alias, {"workers": []})
            for k, v in snap.items():
                if isinstance(v, int | float):
                    agg[k] = agg.get(k, 0) + v
            agg["workers"].append({"worker": w, **snap})
    return out


# -- worker processes --------------------------------------------------------------------


def _split_config(config: Any, workers: int) -> Any:
    """The project config a worker uses: each alias's concurrency limits divided among
    the workers (rounded up), so that together they keep the alias's limits."""
    if workers <= 1:
        return config
    config = config.model_copy(deep=True)
    for cfg in config.models.aliases.values():
        for field in ("concurrency", "max_concurrency"):
            value = getattr(cfg, field)
            if value:
                setattr(cfg, field, max(1, -(-value // workers)))
        cfg.min_concurrency = max(1, -(-cfg.min_concurrency // workers))
    return config


def worker_payload(runner: Runner, workers: int, *, shared_budget: bool = False) -> bytes:
    """What a worker needs to rebuild the runner and its gateway, pickled; a clear
    error when the gateway cannot travel to another process. `shared_budget`: the
    workers can share the run's budget (the process and Ray executors); else an
    evaluation with a budget is refused."""
    gateway = runner.gateway
    config = getattr(gateway, "config", None)
    if config is None:
        raise ConfigError(
            "worker processes rebuild the gateway from its project config; this gateway "
            f"({type(gateway).__name__}) has none: run with one process (workers=1)"
        )
    budget = runner.suite.budget
    budgeted = budget.usd is not None or budget.tokens is not None
    if budgeted and not shared_budget:
        raise ConfigError(
            "this executor cannot share an evaluation's budget among its workers: run "
            "it in one process, with --workers N or --executor ray, or drop the budget",
            key="budget",
        )
    source = None if getattr(gateway, "_auto", True) else gateway.source
    from forgekit.models.pricing import known_rates, rates_for

    for model in runner.suite.models:  # priced here once, not imported in every worker
        rates_for(config.alias(model))
    state = {
        "rates": known_rates(),
        "runner_cls": type(runner),  # pickled by reference: no import of the runner here
        "live_cls": type(runner.live),
        "suite": runner.suite,
        "config": _split_config(config, workers),
        "budget": {"usd": budget.usd, "tokens": budget.tokens} if budgeted else None,
        "source": source,
        "cache": bool(getattr(getattr(gateway, "cache", None), "enabled", False)),
        "out_dir": str(runner.out_dir),
        "concurrency": max(1, -(-runner.concurrency // workers)),
    }
    try:
        return pickle.dumps(state)
    except Exception as e:
        raise ConfigError(
            f"worker processes need a gateway and solvers that can be rebuilt in another "
            f"process; this one cannot be pickled ({type(e).__name__}: {e}). Use the "
            "default source, or run with one process (workers=1)"
        ) from None


def build_worker_runner(payload: bytes, slot: int | None = None) -> Any:
    """The runner a worker process uses (the inverse of `worker_payload`); `slot`: its
    row in the run's shared budget (`forgekit.evals.shared_budget`)."""
    from forgekit.models import Gateway
    from forgekit.models.pricing import seed_rates

    state = pickle.loads(payload)
    seed_rates(state["rates"])
    gateway = Gateway(state["config"], source=state["source"], cache=state["cache"])
    runner = state["runner_cls"](state["suite"], gateway, out_dir=state["out_dir"],
                                 progress=False)
    runner.concurrency = state["concurrency"]
    runner.live_cls = state["live_cls"]
    if state["budget"] is not None and slot is not None:
        from forgekit.evals.shared_budget import SharedEvalBudget

        runner.budget = SharedEvalBudget(
            state["out_dir"], max_usd=state["budget"]["usd"],
            max_tokens=state["budget"]["tokens"], slot=slot,
        )
        reason = runner.budget.stop_reason
        runner.stopped = f"budget: {reason}" if reason else None
    return runner

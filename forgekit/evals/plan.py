"""A plan before spending: what an evaluation will run and roughly what it will cost.

`plan(suite)` (and `forgekit eval SUITE --dry-run`) builds the suite like `evaluate`
does, makes no model call, and reports per cell (model x solver): samples, epochs, the
model calls per sample (an upper bound: strategies know their call counts; a judge
scorer adds one), projected tokens and cost from the price table (the alias's `price`,
else litellm's price map), and whether the suite's budget covers it.

Token projections are estimates: prompt tokens as characters / 4 of each sample's input
(plus the template), reply tokens as the call's `max_tokens` (a ceiling; 256 without).

Example:
    >>> import forgekit as fk
    >>> print(fk.plan("evals/main.yaml", limit=5))        # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_REPLY_TOKENS = 256
JUDGE_PROMPT_TOKENS = 200  # the judge's template around question, target and answer


def calls_per_sample(solver: Any) -> int:
    """The most model calls one `solve` makes: a solver's own `expected_calls()`, the
    quality strategies' counts from their config, an agent's step limit, else 1."""
    own = getattr(solver, "expected_calls", None)
    if callable(own):
        return int(own())
    kind = getattr(solver, "kind", None)
    cfg = getattr(solver, "cfg", None)
    inner = getattr(solver, "inner", None)
    if kind and cfg is not None:
        each = calls_per_sample(inner) if inner is not None else 1
        if kind in ("best_of_n", "ask_colleagues"):
            return cfg.n * each + (1 if getattr(cfg, "aggregate", "vote") == "synthesis" else 0)
        if kind == "pairwise":
            return cfg.n * each + (cfg.n - 1) * (2 if cfg.both_orders else 1)
        if kind == "reviewer":
            judge = {"score": cfg.k * cfg.judge_samples, "chooser": 1}.get(cfg.mode, 0)
            return cfg.k * each + judge
        if kind == "guardrail":
            guard = 1 if getattr(cfg, "rules", None) else 0
            return cfg.max_attempts * (each + guard)
        if kind == "debate":
            return (cfg.rounds + 1) * each + cfg.rounds + 1
        return each
    steps = getattr(solver, "max_steps", None)
    if isinstance(steps, int) and steps > 0:
        return steps
    return 1


def _reply_tokens(solver: Any, alias_params: dict[str, Any]) -> int:
    for params in (getattr(solver, "params", None), alias_params):
        if isinstance(params, dict) and params.get("max_tokens"):
            return int(params["max_tokens"])
    return DEFAULT_REPLY_TOKENS


@dataclass
class PlanRow:
    """One cell of the grid: a model x solver."""

    model: str
    solver: str
    samples: int
    epochs: int
    calls_per_sample: int
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    priced: bool


@dataclass
class Plan:
    """What `evaluate` would run; printed as a table (`str(plan)`, `plan._repr_html_()`)."""

    suite: str
    rows: list[PlanRow]
    budget_usd: float | None = None
    budget_tokens: int | None = None
    already_done: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return sum(r.calls for r in self.rows)

    @property
    def tokens(self) -> int:
        return sum(r.input_tokens + r.output_tokens for r in self.rows)

    @property
    def cost_usd(self) -> float:
        return sum(r.cost_usd for r in self.rows)

    @property
    def within_budget(self) -> bool | None:
        """True/False when the suite has a budget, None when it has none."""
        if self.budget_usd is None and self.budget_tokens is None:
            return None
        ok_usd = self.budget_usd is None or self.cost_usd <= self.budget_usd
        ok_tok = self.budget_tokens is None or self.tokens <= self.budget_tokens
        return ok_usd and ok_tok

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "rows": [r.__dict__ for r in self.rows],
            "calls": self.calls,
            "tokens": self.tokens,
            "cost_usd": self.cost_usd,
            "budget_usd": self.budget_usd,
            "budget_tokens": self.budget_tokens,
            "within_budget": self.within_budget,
            "already_done": self.already_done,
        }

    def __str__(self) -> str:
        head = f"{'model':16} {'solver':24} {'samples':>7} {'epochs':>6} {'calls/s':>7} " \
               f"{'calls':>8} {'tokens in':>10} {'tokens out':>10} {'cost $':>10}"
        lines = [f"plan of {self.suite!r} (estimates; no model was called)", head]
        for r in self.rows:
            cost = f"{r.cost_usd:.4f}" if r.priced else "0 (unpriced)"
            lines.append(
                f"{r.model:16} {r.solver:24} {r.samples:>7} {r.epochs:>6} "
                f"{r.calls_per_sample:>7} {r.calls:>8} {r.input_tokens:>10} "
                f"{r.output_tokens:>10} {cost:>10}"
            )
        lines.append(
            f"total: {self.calls} model calls (at most), ~{self.tokens} tokens, "
            f"~${self.cost_usd:.4f}"
        )
        if self.already_done:
            lines.append(f"{self.already_done} sample runs already finished in out_dir (skipped)")
        verdict = self.within_budget
        if verdict is not None:
            budget = ", ".join(
                x for x in [
                    f"${self.budget_usd:g}" if self.budget_usd is not None else "",
                    f"{self.budget_tokens} tokens" if self.budget_tokens is not None else "",
                ] if x
            )
            lines.append(
                f"budget {budget}: " + ("covers it" if verdict else "does NOT cover it")
            )
        lines.extend(self.notes)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(str(self))}</pre>"


def plan(
    suite: Any,
    gateway: Any = None,  # a Gateway, or the tasks (plan(solvers, tasks))
    *,
    tasks: Any = None,
    scorers: Any = None,
    models: list[str] | None = None,
    limit: int | None = None,
    out_dir: str | Path | None = None,
    **options: Any,
) -> Plan:
    """The plan of an evaluation: what `evaluate(...)` would run and cost. `suite` is a
    suite (path or `Suite`), or solvers as `evaluate` takes them with `tasks` and
    `scorers` (``plan({"best": best}, "tasks.jsonl", scorers=["exact"])`` works too: a
    second positional argument that is not a gateway is the tasks)."""
    from forgekit.evals.evaluation import plan_of
    from forgekit.evals.judge import DEFAULT_RUBRIC
    from forgekit.evals.runner import Runner
    from forgekit.models.pricing import rates_for

    if gateway is not None and not hasattr(gateway, "config") and tasks is None:
        gateway, tasks = None, gateway  # plan(solvers, tasks, ...)
    if gateway is None:
        from forgekit.core.config import load_config

        class _ConfigOnly:  # no model is ever called: a config is all a plan needs
            config = load_config()

        gateway = _ConfigOnly()
    suite = plan_of(suite, tasks, scorers=scorers, models=models, limit=limit,
                    default_model=gateway.config.models.default, **options)
    runner = Runner(suite, gateway, out_dir=out_dir, progress=False)
    done = runner.log.load()
    if not any(runner.out_dir.iterdir()):
        runner.out_dir.rmdir()  # a plan leaves nothing behind
    config = gateway.config
    judges = sum(1 for s in runner.scorers if getattr(s, "type", None) == "judge")
    prompt_tokens = [len(s.input_text()) // 4 + 8 for s in runner.samples]
    rows = []
    for model in runner.suite.models:
        alias = config.alias(model)
        inp_rate, out_rate = rates_for(alias)
        for entry in runner.solvers:
            solver = entry.solver
            per = calls_per_sample(solver)
            epochs = runner.suite.epochs
            n = len(runner.samples)
            reply = _reply_tokens(solver, alias.params)
            template = len(str(getattr(solver, "template", "") or "")) // 4
            tin = sum(p + template for p in prompt_tokens) * per * epochs
            tout = n * epochs * per * reply
            if judges:
                judge_in = sum(p + JUDGE_PROMPT_TOKENS + len(DEFAULT_RUBRIC) // 4 + reply
                               for p in prompt_tokens)
                tin += judges * judge_in * epochs
                tout += judges * n * epochs * 128
            calls = n * epochs * (per + judges)
            rows.append(
                PlanRow(
                    model=model,
                    solver=entry.label,
                    samples=n,
                    epochs=epochs,
                    calls_per_sample=per + judges,
                    calls=calls,
                    input_tokens=tin,
                    output_tokens=tout,
                    cost_usd=tin * inp_rate + tout * out_rate,
                    priced=bool(inp_rate or out_rate),
                )
            )
    notes = []
    if any(not r.priced for r in rows):
        notes.append(
            "unpriced aliases cost 0 here: give them a `price` in forgekit.yaml to project it"
        )
    return Plan(
        suite=runner.suite.name,
        rows=rows,
        budget_usd=runner.suite.budget.usd,
        budget_tokens=runner.suite.budget.tokens,
        already_done=sum(1 for r in done.values() if r.status in ("completed", "failed")),
        notes=notes,
    )

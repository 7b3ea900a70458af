"""A small driver measuring solvers (plain and with strategies) on a task set: accuracy
against calls, tokens and cost, ready for `frontier_table` / `plot_frontier`.

For full evaluations (epochs, confidence intervals, resumable runs, MLflow) use the eval
runner in `forgekit.evals`; this driver exists so the quality layer can tell the truth
about its strategies with nothing above it, in a notebook or a benchmark script.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from forgekit.core.context import MemorySink, RunContext
from forgekit.core.samples import Answer, Sample
from forgekit.quality.meter import Meter, metered
from forgekit.quality.normalize import canonical_number, extract_choice, extract_number

ScoreFn = Callable[[Answer, Sample], bool]


def exact_match(answer: Answer, sample: Sample) -> bool:
    """Correct when the answer's choice letter (multiple choice) or number (numeric
    target) or normalised text equals a target."""
    targets = sample.targets
    if not targets:
        return False
    if sample.choices:
        return extract_choice(answer.text, sample.choices) in {t.strip().upper() for t in targets}
    numeric = [canonical_number(t) for t in targets]
    if all(n is not None for n in numeric):
        return extract_number(answer.text) in numeric
    text = " ".join(answer.text.lower().split())
    return any(" ".join(t.lower().split()) in text for t in targets)


async def ameasure(
    solvers: dict[str, Any],
    samples: Sequence[Sample],
    gateway: Any,
    *,
    model: str | None = None,
    score: ScoreFn = exact_match,
    budget_factory: Callable[[], Any] | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every solver on every sample (in order); one summary row per solver.

    Each row: ``strategy``, ``accuracy``, ``correct``, ``n``, ``calls`` (per sample),
    ``tokens`` (per sample), ``cost`` (USD per sample), ``errors``, ``seconds``,
    and ``answers`` (per sample: id, text, correct).
    """
    rows = []
    for name, solver in solvers.items():
        meter = Meter()
        correct = errors = 0
        answers = []
        t0 = time.perf_counter()
        for sample in samples:
            ctx = RunContext(
                gateway=gateway,
                sink=MemorySink(),
                model=model,
                sample=sample,
                budget=budget_factory() if budget_factory else None,
            )
            try:
                answer = await solver.solve(sample, metered(ctx, meter))
            except Exception as e:  # a failed sample counts as wrong, and is reported
                errors += 1
                answers.append(
                    {
                        "id": sample.id,
                        "text": None,
                        "correct": False,
                        "error": f"{type(e).__name__}: {e}",
                    }
                )
                continue
            ok = bool(score(answer, sample))
            correct += ok
            answers.append({"id": sample.id, "text": answer.text, "correct": ok})
            if on_result is not None:
                on_result({"strategy": name, "id": sample.id, "correct": ok})
        n = max(1, len(samples))
        rows.append(
            {
                "strategy": name,
                "accuracy": correct / n,
                "correct": correct,
                "n": len(samples),
                "calls": meter.calls / n,
                "tokens": meter.usage.total_tokens / n,
                "cost": meter.cost_usd / n,
                "errors": errors,
                "seconds": round(time.perf_counter() - t0, 2),
                "answers": answers,
            }
        )
    return rows


def measure(
    solvers: dict[str, Any], samples: Sequence[Sample], gateway: Any, **kwargs: Any
) -> list[dict[str, Any]]:
    """Sync form of `ameasure` (works inside a notebook)."""
    from forgekit.core.sync import run_sync

    return run_sync(ameasure(solvers, samples, gateway, **kwargs))


def markdown_table(rows: Sequence[dict[str, Any]], *, cost: str = "calls") -> str:
    """The accuracy-vs-cost table as Markdown, Pareto-front rows marked with ★."""
    from forgekit.quality.frontier import frontier_table

    table = frontier_table([r for r in rows], cost=cost)
    lines = [
        "| strategy | accuracy | correct/n | calls/sample | tokens/sample | USD/sample | Pareto |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in table:
        lines.append(
            f"| {r['strategy']} | {r['accuracy']:.2f} | {r['correct']}/{r['n']} | "
            f"{r['calls']:.1f} | {r['tokens']:.0f} | {r['cost']:.6f} | "
            f"{'★' if r['pareto'] else ''} |"
        )
    return "\n".join(lines)


def well_formed(answer: Answer, sample: Sample) -> bool | str:
    """A format validator for guardrails on the bundled sets: a choice letter for
    multiple choice, a number otherwise (the feedback says which)."""
    if sample.choices:
        if extract_choice(answer.text, sample.choices) is not None:
            return True
        letters = ", ".join(chr(65 + i) for i in range(len(sample.choices)))
        return f"answer with one letter: {letters}"
    return extract_number(answer.text) is not None or "answer with a number"


def standard_lineup(
    prompt: str, *, max_tokens: int = 32, only: Sequence[str] | None = None
) -> dict[str, Any]:
    """Plain and every strategy at its usual setting, around one prompt template."""
    from forgekit.quality.best_of_n import BestOfN
    from forgekit.quality.debate import Debate
    from forgekit.quality.direct import Direct
    from forgekit.quality.guardrail import Guardrail
    from forgekit.quality.pairwise import Pairwise
    from forgekit.quality.reviewer import ReviewerRetry

    inner = Direct(prompt, max_tokens=max_tokens)
    lineup: dict[str, Any] = {
        "plain": inner,
        "best_of_5": BestOfN(inner, n=5, temperature=0.7),
        "best_of_5_synthesis": BestOfN(
            inner, n=5, temperature=0.7, aggregate="synthesis", synthesis_max_tokens=max_tokens
        ),
        "pairwise_3": Pairwise(inner, n=3, temperature=0.7),
        "reviewer_3": ReviewerRetry(inner, k=3, threshold=8, temperature=0.7),
        "guardrail_3": Guardrail(inner, validator=well_formed, max_attempts=3),
        "debate_1": Debate(inner, rounds=1, critic_max_tokens=max_tokens),
    }
    if only:
        unknown = set(only) - set(lineup)
        if unknown:
            raise ValueError(f"unknown solver(s) {sorted(unknown)}; known: {sorted(lineup)}")
        lineup = {k: v for k, v in lineup.items() if k in only}
    return lineup

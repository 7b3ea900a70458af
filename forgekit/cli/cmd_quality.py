"""`forgekit quality`: list the quality strategies, and compare plain vs strategies on a
task set (accuracy against calls/tokens/cost, Pareto front)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _list(args: argparse.Namespace) -> int:
    from forgekit.quality import STRATEGIES

    for name, cls in STRATEGIES.items():
        fields = ", ".join(
            f"{k}={v.default!r}"
            for k, v in cls.Config.model_fields.items()
            if k not in ("name",) and not k.endswith("_prompt")
        )
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        print(f"{name:15s} {doc}\n{'':15s} options: {fields}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from forgekit.core.config import load_config
    from forgekit.evals import load_samples
    from forgekit.models import Gateway
    from forgekit.quality import markdown_table, measure, plot_frontier
    from forgekit.quality.measure import standard_lineup

    samples = load_samples(args.taskset, limit=args.limit)
    prompt = args.prompt or (
        "{input}\n{choices}\nAnswer with the letter of the correct choice."
        if any(s.choices for s in samples)
        else "{input}\nAnswer with just the number."
    )
    only = args.only.split(",") if args.only else None
    try:
        lineup = standard_lineup(prompt, max_tokens=args.max_tokens, only=only)
    except ValueError as e:
        print(f"error: {e}")
        return 2
    cfg = load_config()
    if args.no_cache:
        cfg.cache.enabled = False
    gw = Gateway(cfg)
    try:
        rows = measure(lineup, samples, gw, model=args.model)
    finally:
        gw.close()
    print(markdown_table(rows, cost=args.cost))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "quality.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
        plot_frontier(rows, cost=args.cost, path=str(out / "quality.png"))
        print(f"\nwritten: {out / 'quality.json'}, {out / 'quality.png'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quality", help="quality strategies: list them, compare them")
    qsub = p.add_subparsers(dest="quality_command")
    ls = qsub.add_parser("list", help="the strategies and their options")
    ls.set_defaults(func=_list)
    cmp = qsub.add_parser("compare", help="plain vs strategies on a task set: accuracy vs cost")
    cmp.add_argument("taskset", help="a task set file (JSONL/CSV/YAML/Parquet)")
    cmp.add_argument("--model", help="model alias (default: the configured default)")
    cmp.add_argument("--limit", type=int, help="only the first N samples")
    cmp.add_argument("--only", help="comma-separated solvers (plain,best_of_5,...)")
    cmp.add_argument("--prompt", help="prompt template ({input}, {choices})")
    cmp.add_argument("--max-tokens", type=int, default=32)
    cmp.add_argument(
        "--cost",
        default="calls",
        choices=["calls", "tokens", "cost"],
        help="the cost axis of the table and plot",
    )
    cmp.add_argument("--out", help="directory for quality.json and quality.png")
    cmp.add_argument("--no-cache", action="store_true", help="bypass the response cache")
    cmp.set_defaults(func=_compare)
    p.set_defaults(func=lambda a: (p.print_help(), 0)[1])

"""`forgekit quality`: list the quality strategies, and compare plain vs strategies with
the eval runner (accuracy with CIs, paired difference, cost, Pareto front).

`quality compare` is a thin front-end: the eval runner (`forgekit.evals.evaluate`) runs
the suite (resumable, response-cached, one trajectory per sample); the evals layer's
`forgekit.evals.strategy_table` / `markdown_table` / `plot_frontier` read its `EvalResults`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forgekit.models import Gateway


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


def load_or_run(
    source: str | Path,
    *,
    gateway: Gateway | None = None,
    models: list[str] | None = None,
    limit: int | None = None,
    eval_dir: str | Path | None = None,
    progress: bool = True,
    cache: bool = True,
) -> Any:
    """The `EvalResults` of `source`: a suite YAML (run by the eval runner, resuming an
    interrupted run of the same config) or the directory of a finished evaluation
    (holding ``results.parquet``), read as is."""
    from forgekit.evals import EvalResults, evaluate, load_suite

    src = Path(source)
    if src.is_dir():
        if not (src / "results.parquet").exists():
            from forgekit.core.errors import ConfigError

            raise ConfigError(f"{src} holds no results.parquet (not an evaluation directory)")
        return EvalResults.load(src)
    suite = load_suite(src)
    owns = gateway is None
    if gateway is None:
        from forgekit.models import Gateway

        gateway = Gateway()
    if not cache:
        gateway.cache.enabled = False
    try:
        return evaluate(
            suite, gateway, out_dir=eval_dir, models=models, limit=limit, progress=progress
        )
    finally:
        if owns:
            gateway.close()


def write_outputs(
    results: Any,
    rows: list[dict[str, Any]],
    out: str | Path,
    *,
    stem: str = "quality",
    title: str | None = None,
    meta: dict[str, Any] | None = None,
) -> list[Path]:
    """Write ``<stem>.md`` (the table), ``<stem>.json`` (rows, per-sample results and
    `meta`) and ``<stem>.png`` (the plot, Pareto front in red) under `out`."""
    from forgekit.evals import markdown_table
    from forgekit.evals.frontier_plot import frontier_image

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    md, js, png = out / f"{stem}.md", out / f"{stem}.json", out / f"{stem}.png"
    md.write_text(markdown_table(rows) + "\n", encoding="utf-8")
    per_sample = results.df.select(
        "model", "solver", "sample_id", "epoch", "status", "score", "answer", "model_calls"
    ).to_dicts()
    doc = {
        "meta": {"eval_id": results.eval_id, "eval_dir": str(results.out_dir), **(meta or {})},
        "rows": rows,
        "samples": per_sample,
    }
    js.write_text(json.dumps(doc, indent=1, default=str) + "\n", encoding="utf-8")
    png.write_bytes(
        frontier_image(rows, title=title or f"{results.eval_id}: accuracy vs cost")
    )
    return [md, js, png]


def _compare(args: argparse.Namespace) -> int:
    from forgekit.core.errors import ForgekitError
    from forgekit.evals import markdown_table, strategy_table

    try:
        results = load_or_run(
            args.source,
            models=args.model or None,
            limit=args.limit,
            eval_dir=args.eval_dir,
            progress=not args.no_progress,
            cache=not args.no_cache,
        )
        rows = strategy_table(results, baseline=args.baseline, cost=args.cost)
    except (ForgekitError, ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(markdown_table(rows))
    print(f"\nevaluation: {results.out_dir}")
    if args.out:
        written = write_outputs(results, rows, args.out)
        print("written:    " + ", ".join(str(p) for p in written))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quality", help="quality strategies: list them, compare them")
    qsub = p.add_subparsers(dest="quality_command")
    ls = qsub.add_parser("list", help="the strategies and their options")
    ls.set_defaults(func=_list)
    cmp = qsub.add_parser(
        "compare",
        help="run an eval suite (plain vs strategies) and show accuracy vs cost",
        description="Run SOURCE (an eval suite YAML) with the eval runner, or read a "
        "finished evaluation directory, and print accuracy [95% CI], the paired "
        "difference against the baseline solver with its p-value, cost per sample and "
        "the Pareto front.",
    )
    cmp.add_argument(
        "source", help="a suite YAML (e.g. evals/quality_strategies.yaml) or an eval dir"
    )
    cmp.add_argument(
        "--model", action="append", help="model alias (repeatable; default: the suite's)"
    )
    cmp.add_argument("--limit", type=int, help="only the first N samples")
    cmp.add_argument("--baseline", help="the solver to compare with (default: the suite's first)")
    cmp.add_argument(
        "--cost",
        default="auto",
        choices=["auto", "calls", "tokens", "usd", "latency_s"],
        help="the cost axis of the Pareto front (auto: USD, or calls when every model is free)",
    )
    cmp.add_argument("--eval-dir", help="the runner's output dir (default: .forgekit/evals/<id>)")
    cmp.add_argument("--out", help="directory for quality.md, quality.json and quality.png")
    cmp.add_argument("--no-cache", action="store_true", help="bypass the response cache")
    cmp.add_argument("--no-progress", action="store_true", help="no progress bar")
    cmp.set_defaults(func=_compare)
    p.set_defaults(func=lambda a: (p.print_help(), 0)[1])

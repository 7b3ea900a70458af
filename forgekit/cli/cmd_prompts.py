"""`forgekit prompts FILE`: run each prompt of a task file against one model alias and
print the answer, tokens, cost and latency per prompt and the total."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from forgekit.core.errors import DataError


def read_prompts(path: Path) -> list[dict[str, Any]]:
    """Rows with `input` (and optional `id`) from a JSONL file; every bad line is listed."""
    rows, problems = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{path}:{n}: not valid JSON ({e.msg})")
            continue
        if not isinstance(row, dict) or not isinstance(row.get("input"), str):
            problems.append(f"{path}:{n}: expected an object with a string field 'input'")
            continue
        row.setdefault("id", str(n))
        rows.append(row)
    if problems:
        raise DataError(f"{len(problems)} bad row(s) in {path}", problems=problems)
    return rows


def run(args: argparse.Namespace) -> int:
    from forgekit.core.config import load_config
    from forgekit.core.context import MemorySink
    from forgekit.models import Gateway

    rows = read_prompts(Path(args.file))
    if args.limit:
        rows = rows[: args.limit]
    cfg = load_config()
    if args.no_cache:
        cfg.cache.enabled = False
    gw = Gateway(cfg)
    total_in = total_out = 0
    total_cost = 0.0
    t0 = time.perf_counter()
    try:
        print(f"model alias: {args.model or cfg.models.default}   prompts: {len(rows)}\n")
        for row in rows:
            sink = MemorySink()
            r = gw.complete(row["input"], model=args.model, sink=sink,
                            call_key={"sample": row["id"]}, max_tokens=args.max_tokens)
            total_in += r.usage.input_tokens
            total_out += r.usage.output_tokens
            total_cost += r.cost_usd
            answer = " ".join(r.text.split())
            print(f"[{row['id']}] {row['input']}")
            print(f"    answer : {answer[:200]}")
            print(f"    tokens : {r.usage.input_tokens} in / {r.usage.output_tokens} out   "
                  f"cost: ${r.cost_usd:.6f}   latency: {r.latency_s:.2f}s"
                  f"{'   (cached)' if r.cached else ''}")
        print(f"\ntotal: {len(rows)} prompts, {total_in} input + {total_out} output tokens, "
              f"${total_cost:.6f}, {time.perf_counter() - t0:.1f}s wall")
    finally:
        close = getattr(gw, "close", None)
        if close:
            close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prompts", help="run the prompts of a JSONL file against one model")
    p.add_argument("file", help="JSONL file with one {'id', 'input'} object per line")
    p.add_argument("--model", help="model alias (default: the configured default)")
    p.add_argument("--limit", type=int, help="only the first N prompts")
    p.add_argument("--max-tokens", type=int, default=64, help="max output tokens per prompt")
    p.add_argument("--no-cache", action="store_true", help="bypass the response cache")
    p.set_defaults(func=run)

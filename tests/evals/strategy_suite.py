"""An evaluation of three quality strategies (plain, best-of-3, a guardrail) on a scripted
model, for the comparison tests (`evals/frontier`, `forgekit quality compare`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from forgekit.core.config import Price
from forgekit.evals import evaluate
from tests.scripted import scripted_gateway

SAMPLES = [{"id": f"s{i}", "input": f"what is {i} + {i}?", "target": str(2 * i)} for i in range(4)]


def reply(request) -> str:
    """Plain (greedy) is right on s0 and s1 and gives no number on s2, s3; it is right
    once told its answer was rejected. Sampled candidates (seeded) are right for seeds 0
    and 1, wrong for seed 2, so a vote of 3 is always right."""
    text = request.messages[-1].content
    n = int(re.findall(r"\d+", text)[0])
    seed = request.params.get("seed")
    if seed is not None:
        return str(2 * n) if seed < 2 else "99"
    if "rejected" in text or n < 2:
        return f"The answer is {2 * n}."
    return "I do not know."


def run_suite(tmp_path: Path):
    """Run plain, best-of-3 and a guardrail on the scripted model with the eval runner."""
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(s) + "\n" for s in SAMPLES))
    suite = {
        "name": "strategies",
        "taskset": "tasks.jsonl",
        "models": ["m"],
        "solvers": [
            {"name": "plain", "template": "{input}", "params": {"temperature": 0.0}},
            {
                "name": "best_of_3",
                "type": "best_of_n",
                "options": {"inner": "plain", "n": 3, "temperature": 0.7},
            },
            {
                "name": "guardrail_3",
                "type": "guardrail",
                "options": {
                    "inner": "plain",
                    "validator": "forgekit.quality.guardrail:well_formed",
                    "max_attempts": 3,
                },
            },
        ],
        "scorers": ["numeric"],
        "concurrency": 1,
    }
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    gw, _ = scripted_gateway(
        reply, aliases={"m": "openai/m"}, root=tmp_path, api_base="http://x", max_retries=0,
        price=Price(input_per_1k=1.0, output_per_1k=0.0),
    )
    return evaluate(path, gw, out_dir=tmp_path / "eval", progress=False)

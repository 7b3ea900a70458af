"""Fixtures of the eval tests: a project config with two scripted model aliases, and a
suite writer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml


def make_config(root: Path):
    from forgekit.core.config import AliasConfig, Price, load_config

    cfg = load_config(env={"FORGEKIT_HOME": str(root)})
    cfg.cache.enabled = False
    for name in ("m1", "m2"):
        cfg.models.aliases[name] = AliasConfig(
            model=f"openai/{name}",
            api_base="http://x",
            max_retries=0,
            # a price override: no litellm price lookup
            price=Price(input_per_1k=0.01, output_per_1k=0.02),
        )
    cfg.tracking.enabled = False
    return cfg


@pytest.fixture
def config(tmp_path: Path):
    return make_config(tmp_path)


@pytest.fixture
def write_suite(tmp_path: Path):
    """Write a task set and a suite YAML in tmp_path; returns the suite path."""

    def write(samples: list[dict] | None = None, **suite) -> Path:
        samples = samples or [
            {"id": f"s{i}", "input": f"what is {i} + {i}?", "target": str(2 * i)} for i in range(6)
        ]
        data = tmp_path / "tasks.jsonl"
        import json

        data.write_text("".join(json.dumps(s) + "\n" for s in samples))
        body = {
            "name": "t",
            "taskset": "tasks.jsonl",
            "models": ["m1"],
            "solvers": [{"name": "p", "template": "{input}"}],
            "scorers": ["numeric"],
            **suite,
        }
        path = tmp_path / "suite.yaml"
        path.write_text(yaml.safe_dump(body, sort_keys=False))
        return path

    return write

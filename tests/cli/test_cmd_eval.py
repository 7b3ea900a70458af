"""`forgekit eval`: a real run of the main suite on the embedded model, a bad suite, a dry run
against a budget, a budget held over three invocations against a local server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from forgekit.evals.spend import LEDGER, spent_so_far

ROOT = Path(__file__).parents[2]


@pytest.mark.integration
@pytest.mark.slow
def test_cli_runs_the_main_suite_and_says_where_everything_is(tmp_path: Path) -> None:
    env = {**os.environ, "FORGEKIT_HOME": str(tmp_path)}
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "forgekit.cli.main",
        "eval",
        str(ROOT / "evals" / "main.yaml"),
        "--limit",
        "2",
        "--out",
        str(out),
        "--no-progress",
    ]
    r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "worked-examples vs local/plain" in r.stdout
    for word in ("results:", "report:", "trajectories:", "mlflow:       run"):
        assert word in r.stdout, r.stdout
    assert (out / "results.parquet").exists() and (out / "report.html").exists()
    assert len(list((out / "runs").glob("*.jsonl"))) >= 4
    db = tmp_path / ".forgekit" / "mlflow.db"
    assert db.exists()
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{db}")
    exp = client.get_experiment_by_name("forgekit")
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    cells = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(parents) == 1 and len(cells) == 2
    assert {c.data.params["solver"] for c in cells} == {"plain", "worked-examples"}
    assert all(
        {"accuracy", "ci_low", "ci_high", "cost_usd", "tokens"} <= set(c.data.metrics)
        for c in cells
    )
    # re-running resumes: nothing left to do, same table
    r2 = subprocess.run(
        cmd + ["--no-mlflow"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert r2.returncode == 0 and r2.stdout.split("\n\n")[0] == r.stdout.split("\n\n")[0]


def test_cli_bad_suite_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntaskset: t.jsonl\nsolvers: [{name: a}]\nscorers: [exact]\nepochz: 2\n")
    r = subprocess.run(
        [sys.executable, "-m", "forgekit.cli.main", "eval", str(bad)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FORGEKIT_HOME": str(tmp_path)},
    )
    assert r.returncode == 2
    assert f"{bad}:5" in r.stderr and "epochz" in r.stderr


def test_dry_run_on_the_command_line(config, write_suite, tmp_path, capsys, monkeypatch):
    from forgekit.cli.main import main

    monkeypatch.setenv("FORGEKIT_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "forgekit.yaml").write_text(
        "models:\n  aliases:\n    m1: {model: openai/m1, api_base: 'http://127.0.0.1:9/v1',"
        " price: {input_per_1k: 1.0, output_per_1k: 1.0}}\n"
    )
    path = write_suite(budget={"usd": 0.0001})
    rc = main(["eval", str(path), "--dry-run"])
    out = capsys.readouterr().out
    assert rc == 1 and "does NOT cover it" in out and "m1" in out
    assert not (tmp_path / ".forgekit" / "evals").exists() or not any(
        (tmp_path / ".forgekit" / "evals").iterdir()
    )


def test_cli_budget_over_three_invocations_against_a_server(tmp_path):
    """`forgekit eval` three times, concurrency 16, against a local OpenAI-compatible
    server: each run reports the stop (exit 3), the total stays within the budget."""
    import os
    import subprocess
    import sys

    import yaml

    from forgekit.models.stub_server import StubServer

    with StubServer(latency_ms=20) as stub:
        (tmp_path / "forgekit.yaml").write_text(yaml.safe_dump({"models": {
            "default": "s",
            "aliases": {"s": {"model": "openai/stub", "api_base": stub.url,
                              "api_key_env": "STUB_KEY", "max_retries": 0,
                              "price": {"input_per_1k": 1.0, "output_per_1k": 1.0}}}}}))
        (tmp_path / "tasks.jsonl").write_text("".join(
            json.dumps({"id": f"s{i:03d}", "input": f"what is {i} + 1?", "target": str(i + 1)})
            + "\n" for i in range(120)))
        (tmp_path / "suite.yaml").write_text(yaml.safe_dump({
            "name": "budgeted", "taskset": "tasks.jsonl", "models": ["s"], "concurrency": 16,
            "budget": {"usd": 0.3}, "scorers": ["numeric"],
            "solvers": [{"name": "p", "template": "{input}", "params": {"max_tokens": 16}}]}))
        env = {**os.environ, "FORGEKIT_HOME": str(tmp_path), "STUB_KEY": "k"}
        out = tmp_path / "out"
        runs = [subprocess.run([sys.executable, "-m", "forgekit.cli.main", "eval", "suite.yaml",
                                "--out", str(out), "--no-mlflow", "--no-progress"],
                               cwd=tmp_path, env=env, capture_output=True, text=True,
                               timeout=300) for _ in range(3)]
    assert [r.returncode for r in runs] == [3, 3, 3], runs[0].stderr[-2000:]
    assert all("STOPPED (budget" in r.stdout and "stopped: budget" in r.stderr for r in runs)
    calls = [json.loads(x) for x in (out / LEDGER).read_text().splitlines()]
    largest = max(c["usd"] for c in calls)
    assert spent_so_far(out)[0] <= 0.3 + largest and len(calls) == stub.count
    # the budget was used, not given up early: what is left is less than one call's
    # estimate (prompt + max_tokens 16, at $1 per 1k tokens)
    assert spent_so_far(out)[0] > 0.3 - 0.03

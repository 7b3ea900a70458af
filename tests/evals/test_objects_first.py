"""The issue's 'done when', end to end on a scripted model: an Agent and a BestOfN built
in Python are evaluated on the shipped arithmetic set with a progress bar; the results
carry the paired comparison and show up in `forgekit runs list`, the workbench and a real
MLflow store, all under the project's `.forgekit/`."""

from __future__ import annotations

import json
from pathlib import Path

import forgekit as fk
from forgekit.models import Gateway, ScriptedSource

TASKS = "datasets/arithmetic/arithmetic.jsonl"


def _targets() -> dict[str, str]:
    from forgekit.evals.tasksets import repo_root

    rows = [json.loads(line) for line in (repo_root() / TASKS).read_text().splitlines()]
    return {r["input"]: r["target"] for r in rows}


def test_agent_and_best_of_n_evaluated_as_objects(config, project: Path, capsys) -> None:
    targets = _targets()

    def model(request) -> str:
        question = next(m.content for m in request.messages if m.role == "user")
        answer = next(t for q, t in targets.items() if q in question)
        # the agent (with its system prompt) is wrong on every other question
        wrong = request.messages[0].role == "system" and int(answer) % 2 == 0
        return str(int(answer) + 1) if wrong else answer

    src = ScriptedSource(model)
    agent = fk.Agent(name="agent")
    best = fk.BestOfN(fk.PromptSolver("{input}\nAnswer with just the number."), n=3)
    config.tracking.enabled = True  # fk.evaluate logs to the project's MLflow store
    res = fk.evaluate({"agent": agent, "best": best}, TASKS, scorers=["numeric"], limit=5,
                      models=["m1"], gateway=Gateway(config, source=src))
    assert isinstance(res, fk.EvalResults)
    assert res.eval_id.startswith("arithmetic-")
    assert "sample" in capsys.readouterr().err  # the progress bar
    summary = {r["solver"]: r for r in res.summary().iter_rows(named=True)}
    assert summary["best"]["accuracy"] == 1.0
    assert 0.0 < summary["agent"]["accuracy"] < 1.0
    cmp = res.compare().row(0, named=True)
    assert (cmp["solver"], cmp["baseline"], cmp["n"]) == ("best", "m1/agent", 5)
    assert len(src.requests) == 5 + 15

    # the project's store: `forgekit runs list` sees every sample's run
    from forgekit.cli.main import main

    assert main(["runs", "list", "--format", "csv"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert sum(line.split(",")[1] == "agent" for line in listed[1:]) == 5
    assert sum(line.split(",")[1] == "best" for line in listed[1:]) == 5

    # the workbench
    from forgekit.notebook.workbench import list_evals, list_runs

    assert [e["eval_id"] for e in list_evals(project)] == [res.eval_id]
    assert len([r for r in list_runs(project) if r["folder"].startswith(".forgekit/evals")]) == 10

    # MLflow, in the project's store: fk.evaluate logged it, with its report
    tracked = res.tracking
    assert tracked.get("mlflow_run_id"), tracked
    assert (res.out_dir / "report.html").is_file()
    assert tracked["mlflow_uri"] == "sqlite:///" + str(project / ".forgekit" / "mlflow.db")
    import mlflow

    client = mlflow.MlflowClient(tracked["mlflow_uri"])
    children = client.search_runs(
        [client.get_run(tracked["mlflow_run_id"]).info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{tracked['mlflow_run_id']}'",
    )
    assert sorted(r.data.params["solver"] for r in children) == ["agent", "best"]
    artifacts = [a.path for a in client.list_artifacts(tracked["mlflow_run_id"])]
    assert "report.html" in artifacts, artifacts
    # logging again (a re-run resumes) updates the same MLflow run
    assert fk.log_results(res, config)["mlflow_run_id"] == tracked["mlflow_run_id"]

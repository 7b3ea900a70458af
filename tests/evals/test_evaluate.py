"""`evaluate` takes objects: solvers (objects, functions, lists, dicts), tasks (files,
lists, DataFrames, Task), scorers (names, specs, functions); wrong types get a forgekit
error saying what fits; a YAML suite compiles to the same objects."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import forgekit as fk
from forgekit.core.errors import ConfigError, DataError
from forgekit.evals import EvalResults, Task, evaluate, load_suite
from forgekit.models import Gateway, ScriptedSource

ROWS = [{"id": f"q{i}", "input": f"what is {i} + {i}?", "target": str(2 * i)} for i in range(4)]


def doubler(request) -> str:
    n = int(re.findall(r"\d+", request.messages[-1].content)[0])
    return str(2 * n)


def test_a_function_without_a_model(project: Path) -> None:
    res = fk.evaluate(lambda s: "42", [{"id": "a", "input": "6*7?", "target": "42"}],
                      scorers=["exact"], progress=False)
    assert isinstance(res, EvalResults)
    row = res.df.row(0, named=True)
    assert (row["solver"], row["answer"], row["score"]) == ("lambda", "42", 1.0)
    # everything lands in the project's store
    assert res.out_dir.parent == project / ".forgekit" / "evals"
    assert res.out_dir.name.startswith("eval-")
    # and in the project's MLflow store, like `forgekit eval` (tracking is on by default)
    assert res.tracking.get("mlflow_run_id"), res.tracking
    assert res.tracking["mlflow_uri"].endswith(str(project / ".forgekit" / "mlflow.db"))
    assert (res.out_dir / "report.html").is_file()


def test_track_false_and_the_evals_layer_log_nothing(project: Path) -> None:
    rows = [{"id": "a", "input": "6*7?", "target": "42"}]
    res = fk.evaluate(lambda s: "42", rows, scorers=["exact"], progress=False, track=False)
    plain = evaluate(lambda s: "41", rows, scorers=["exact"], progress=False)
    assert res.tracking == {} and plain.tracking == {}
    assert not (project / ".forgekit" / "mlflow.db").exists()


def test_track_true_without_mlflow_says_so(project: Path, monkeypatch) -> None:
    import forgekit.tracking.autolog as autolog

    monkeypatch.setattr(autolog, "tracking_available", lambda: False)
    res = fk.evaluate(lambda s: "42", [{"id": "a", "input": "6*7?", "target": "42"}],
                      scorers=["exact"], progress=False, track=True)
    assert "pip install 'forgekit[tracking]'" in res.tracking["error"]
    assert (res.out_dir / "report.html").is_file()  # the report is written all the same


def test_functions_sync_async_with_ctx_and_answers(project: Path) -> None:
    from forgekit.core.samples import Answer

    def sync(sample):
        return sample.target

    async def with_ctx(sample, ctx):
        assert ctx.sample is sample and ctx.model == "local"
        return Answer(text="0")

    res = evaluate([sync, with_ctx], ROWS, scorers="exact", progress=False)
    acc = dict(res.summary().select("solver", "accuracy").iter_rows())
    assert acc == {"sync": 1.0, "with_ctx": 0.25}  # q0's target is "0"


def test_objects_in_a_labelled_dict_on_a_scripted_model(config, project: Path) -> None:
    from forgekit.evals import PromptSolver

    src = ScriptedSource(doubler)
    res = evaluate(
        {"plain": PromptSolver("{input}"), "terse": PromptSolver("{input} Just the number.")},
        ROWS, scorers=[{"type": "numeric", "tolerance": 0.0}], models=["m1"],
        gateway=Gateway(config, source=src), progress=False,
    )
    assert [c[1] for c in res.cells()] == ["plain", "terse"]
    assert len(src.requests) == 8
    assert res.compare().height == 1  # the paired comparison of terse against plain
    meta = json.loads((res.out_dir / "suite.json").read_text())
    assert meta["suite"]["solvers"]["terse"]["template"] == "{input} Just the number."
    assert meta["suite"]["taskset"]["samples"] == 4


def test_a_user_class_with_a_sync_solve(project: Path) -> None:
    class Echo:
        name = "echo"

        def solve(self, sample, ctx):
            return sample.input_text()

    res = evaluate(Echo(), ROWS[:2], scorers=["exact"], progress=False)
    assert res.df["answer"].to_list() == ["what is 0 + 0?", "what is 1 + 1?"]
    assert res.df["solver"].unique().to_list() == ["echo"]


def test_tasks_as_dataframes_files_and_task_objects(project: Path, tmp_path: Path) -> None:
    import pandas as pd
    import polars as pl

    f = tmp_path / "t.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    answer = lambda s: s.target  # noqa: E731
    for tasks in [pl.DataFrame(ROWS).with_columns(pl.lit("x").alias("topic")),
                  pd.DataFrame(ROWS), str(f), f]:
        res = evaluate(answer, tasks, scorers=["exact"], progress=False, limit=3)
        assert res.df.height == 3 and res.df["score"].to_list() == [1.0] * 3
    task = Task(ROWS, scorers=["exact"], epochs=2, name="arith")
    res = evaluate(answer, task, progress=False)
    assert res.df.height == 8 and res.epochs == 2
    assert res.out_dir.name.startswith("arith-")
    # a Task round-trips through its config
    from forgekit.core.component import build_component

    again = build_component(task.config())
    assert [s.id for s in again.samples] == [s.id for s in task.samples]
    assert again.epochs == 2 and again.config() == task.config()


@pytest.mark.parametrize(
    ("solvers", "tasks", "kw", "match"),
    [
        (Path("x.jsonl"), ROWS, {"scorers": ["exact"]}, "a solver is"),
        (lambda s: "", 42, {"scorers": ["exact"]}, "tasks must be a task set file"),
        (lambda s: "", ROWS, {}, "no scorers"),
        (lambda s: "", ROWS, {"scorers": [3]}, "a scorer is"),
        ("datasets/arithmetic/arithmetic.jsonl", None, {}, "pass the solvers first"),
        (object(), ROWS, {"scorers": ["exact"]}, "a solver is"),
        (Task, ROWS, {"scorers": ["exact"]}, "pass an instance"),
        ({}, ROWS, {"scorers": ["exact"]}, "empty"),
        (lambda s: "", ROWS, {"scorers": ["exact"], "epochs": 0}, "epochs"),
    ],
)
def test_wrong_arguments_say_what_is_accepted(project, solvers, tasks, kw, match) -> None:
    with pytest.raises(ConfigError, match=match):
        evaluate(solvers, tasks, progress=False, **kw)


def test_bad_rows_are_all_reported(project: Path) -> None:
    with pytest.raises(DataError) as e:
        evaluate(lambda s: "", [{"id": "a"}, {"input": "x"}, {"id": "a", "input": "y"}, 7],
                 scorers=["exact"], progress=False)
    problems = "\n".join(e.value.problems)
    for needle in ["tasks[0]: input: missing", "tasks[1]: id: missing", "tasks[3]: expected"]:
        assert needle in problems


def test_a_suite_file_compiles_to_the_same_objects(config, write_suite, project) -> None:
    suite = load_suite(write_suite(solvers=[{"name": "p", "template": "{input}"}]))
    plan = suite.build()
    assert [e.label for e in plan.solvers] == ["p"] and len(plan.samples) == 6
    from forgekit.evals import PromptSolver

    same = fk.evaluate({"p": PromptSolver("{input}", name="p")}, plan.taskset,
                       scorers=["numeric"], models=["m1"], progress=False,
                       gateway=Gateway(config, source=ScriptedSource(doubler)), name="t")
    by_file = fk.evaluate(suite, Gateway(config, source=ScriptedSource(doubler)),
                          progress=False)
    # one code path, one identity: the Python call and the suite are the same evaluation
    assert same.eval_id == by_file.eval_id
    assert same.stable_table().equals(by_file.stable_table())


def test_a_suite_rejects_settings_it_holds_itself(write_suite) -> None:
    with pytest.raises(ConfigError, match="set these in the suite file"):
        evaluate(str(write_suite()), scorers=["exact"], progress=False)


def test_a_yaml_task_set_alone_is_not_taken_for_a_suite(project: Path) -> None:
    import yaml

    path = project / "tasks.yaml"
    path.write_text(yaml.safe_dump(ROWS))
    with pytest.raises(ConfigError, match="is a task set, not an eval suite"):
        evaluate(str(path), progress=False)
    res = evaluate(lambda s: s.target, path, scorers=["exact"], progress=False)
    assert res.df.height == 4 and res.eval_id.startswith("tasks-")


def test_plan_takes_the_same_objects(config, project: Path) -> None:
    from forgekit.evals import PromptSolver
    from forgekit.quality import BestOfN

    p = fk.plan({"plain": PromptSolver("{input}"), "best": BestOfN(PromptSolver("{input}"), n=3)},
                tasks=ROWS, scorers=["exact"], models=["m1"], gateway=Gateway(config))
    rows = {r.solver: r for r in p.rows}
    assert (rows["plain"].calls, rows["best"].calls) == (4, 12)
    assert not list((project / ".forgekit" / "evals").glob("*"))  # a plan leaves nothing

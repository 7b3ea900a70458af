"""Honest run identity: a re-run never returns a stale result. Changing one solver re-runs
only its cells, changing a target or a scorer's parameter scores the stored answers again
without running any solver, and an unchanged run makes no model call. Each case is shown
on the object path and, where the old code went wrong, on the YAML path too."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from forgekit.evals import PromptSolver, evaluate, register_solver
from forgekit.models import Gateway, ScriptedSource
from forgekit.quality import BestOfN

ROWS = [{"id": f"q{i}", "input": f"what is {i} + {i}?", "target": str(2 * i)} for i in range(4)]


def doubler(request) -> str:
    n = int(re.findall(r"\d+", request.messages[-1].content)[0])
    return str(2 * n)


def run(config, solvers, tasks=ROWS, **kw):
    src = ScriptedSource(doubler)
    kw.setdefault("scorers", ["numeric"])
    res = evaluate(solvers, tasks, models=["m1"], gateway=Gateway(config, source=src),
                   progress=False, name="ident", **kw)
    return res, src


def calls_by_prompt(src) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in src.requests:
        text = r.messages[-1].content
        key = "terse" if "number" in text else "plain"
        out[key] = out.get(key, 0) + 1
    return out


def test_unchanged_makes_no_model_call(config, project) -> None:
    solvers = {"plain": PromptSolver("{input}"), "best": BestOfN(PromptSolver("{input}"), n=3)}
    first, src = run(config, solvers)
    assert len(src.requests) == 4 + 12
    again, src = run(config, {"plain": PromptSolver("{input}"),
                              "best": BestOfN(PromptSolver("{input}"), n=3)})
    assert src.requests == []
    assert again.eval_id == first.eval_id
    assert again.stable_table().equals(first.stable_table())


def test_changing_a_prompt_reruns_only_that_solver(config, project) -> None:
    run(config, {"a": PromptSolver("{input}"), "b": PromptSolver("{input}")})
    res, src = run(config, {"a": PromptSolver("{input}"),
                            "b": PromptSolver("{input} Give just the number.")})
    assert calls_by_prompt(src) == {"terse": 4}  # a's four results were reused
    assert res.df.height == 8 and res.df["score"].to_list() == [1.0] * 8


def test_changing_strategy_n_reruns_it(config, project) -> None:
    run(config, {"best": BestOfN(PromptSolver("{input}"), n=3)})
    res, src = run(config, {"best": BestOfN(PromptSolver("{input}"), n=1)})
    assert len(src.requests) == 4  # n=1: one candidate per sample, none reused
    assert json.loads((res.out_dir / "suite.json").read_text())["suite"]["solvers"]["best"]


def test_changing_a_target_rescores_only_that_sample(config, project) -> None:
    first, _ = run(config, PromptSolver("{input}"))
    assert first.df["score"].to_list() == [1.0] * 4
    rows = [dict(r) for r in ROWS]
    rows[3]["target"] = "999"
    res, src = run(config, PromptSolver("{input}"), tasks=rows)
    assert src.requests == []  # the stored answer is scored again, no solver runs
    assert res.df["score"].to_list() == [1.0, 1.0, 1.0, 0.0]
    assert res.df["target"].to_list()[3] == json.dumps("999")
    assert res.eval_id != first.eval_id  # another task set, another evaluation


def test_changing_a_scorer_parameter_rescores_without_model_calls(config, project) -> None:
    first, _ = run(config, PromptSolver("{input}"), scorers=[{"type": "regex",
                                                              "pattern": r"\d+"}])
    res, src = run(config, PromptSolver("{input}"),
                   scorers=[{"type": "regex", "pattern": r"[a-z]+"}])
    assert src.requests == []
    assert first.df["score"].to_list() == [1.0] * 4
    assert res.df["score"].to_list() == [0.0] * 4


def test_changing_a_function_solver_reruns_it(config, project, tmp_path) -> None:
    def answer(sample):
        return sample.target

    first, _ = run(config, answer, scorers=["exact"])

    def answer(sample):  # noqa: F811 - the same name, edited
        return "nope"

    res, _ = run(config, answer, scorers=["exact"])
    assert first.df["score"].to_list() == [1.0] * 4
    assert res.df["score"].to_list() == [0.0] * 4


# -- the YAML path: each of these returned stale results before run keys -------------------

def _suite(tmp_path: Path, rows: list[dict], solvers: list[dict], scorers: list) -> Path:
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump({"name": "ysuite", "taskset": "tasks.jsonl",
                                    "models": ["m1"], "solvers": solvers,
                                    "scorers": scorers}))
    return path


def _yaml_run(config, path):
    src = ScriptedSource(doubler)
    res = evaluate(path, Gateway(config, source=src), progress=False)
    return res, src


def test_yaml_target_change_is_not_stale(config, project, tmp_path) -> None:
    solvers = [{"name": "p", "template": "{input}"}]
    _yaml_run(config, _suite(tmp_path, ROWS, solvers, ["numeric"]))
    rows = [dict(r) for r in ROWS]
    rows[1]["target"] = "999"
    res, src = _yaml_run(config, _suite(tmp_path, rows, solvers, ["numeric"]))
    assert res.df["score"].to_list() == [1.0, 0.0, 1.0, 1.0]
    assert src.requests == []


def test_yaml_prompt_change_reruns_only_that_solver(config, project, tmp_path) -> None:
    a = {"name": "a", "template": "{input}"}
    _yaml_run(config, _suite(tmp_path, ROWS, [a, {"name": "b", "template": "{input}"}],
                             ["numeric"]))
    res, src = _yaml_run(config, _suite(
        tmp_path, ROWS, [a, {"name": "b", "template": "{input} Give just the number."}],
        ["numeric"]))
    assert calls_by_prompt(src) == {"terse": 4}
    assert res.df.height == 8


def test_yaml_scorer_parameter_change_makes_no_model_calls(config, project, tmp_path) -> None:
    solvers = [{"name": "p", "template": "{input}"}]
    _yaml_run(config, _suite(tmp_path, ROWS, solvers, [{"type": "numeric"}]))
    res, src = _yaml_run(config, _suite(tmp_path, ROWS, solvers,
                                        [{"type": "numeric", "tolerance": 0.5}]))
    assert src.requests == [] and res.df.height == 4


def test_a_registered_factory_object_change_is_not_stale(config, project, tmp_path) -> None:
    """The issue's detour: the suite names a registered factory; the object it builds
    changed, the YAML did not."""
    template = ["{input}"]
    register_solver("ident_factory", lambda name, **o: PromptSolver(template[0], name=name))
    path = _suite(tmp_path, ROWS, [{"name": "f", "type": "ident_factory"}], ["numeric"])
    _yaml_run(config, path)
    template[0] = "{input} Give just the number."
    res, src = _yaml_run(config, path)
    assert calls_by_prompt(src) == {"terse": 4}


def test_results_of_an_older_forgekit_run_again_and_still_load(config, project,
                                                                tmp_path, caplog) -> None:
    from forgekit.evals import EvalResults

    first, _ = run(config, PromptSolver("{input}"), out_dir=tmp_path / "o")
    log = tmp_path / "o" / "results.jsonl"
    old = [json.loads(line) for line in log.read_text().splitlines()]
    for rec in old:  # what an older forgekit wrote: no run keys
        for k in ("run_key", "score_key", "solver_hash", "sample_hash"):
            rec.pop(k)
    log.write_text("".join(json.dumps(r) + "\n" for r in old))
    (tmp_path / "o" / "results.parquet").unlink()
    res, src = run(config, PromptSolver("{input}"), out_dir=tmp_path / "o")
    assert len(src.requests) == 4 and "older forgekit" in caplog.text
    assert EvalResults.load(tmp_path / "o").df.height == 4 == res.df.height


def test_a_judge_rescoring_adds_its_calls_to_the_row(config, project) -> None:
    first, _ = run(config, PromptSolver("{input}"), scorers=["numeric"])
    src = ScriptedSource(lambda req: "GRADE: C" if "GRADE" in req.messages[0].content
                         or "GRADE" in req.messages[-1].content else doubler(req))
    res = evaluate(PromptSolver("{input}"), ROWS, models=["m1"], name="ident",
                   scorers=[{"type": "judge", "model": "m2"}],
                   gateway=Gateway(config, source=src), progress=False)
    assert len(src.requests) == 4 and all(r.alias == "m2" for r in src.requests)  # judges only
    assert res.df["score"].to_list() == [1.0] * 4
    assert (res.df["model_calls"] - first.df["model_calls"]).to_list() == [1] * 4
    assert (res.df["cost_usd"] > first.df["cost_usd"]).all()

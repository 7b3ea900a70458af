"""The Ray executor on a real local Ray (`ray.init(num_cpus=2)`, started once for the
module): the same results table as one process, an actor killed mid-run loses nothing,
and a budget holds across the actors (with one of them killed mid-run)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from forgekit.core.config import Price
from forgekit.evals import evaluate
from forgekit.evals.spend import LEDGER, spent_so_far
from forgekit.models import Gateway
from forgekit.models.stub_server import StubServer
from tests.evals.test_executors import COLUMNS, _setup

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    """A real local Ray with 2 CPUs for this module's tests, stopped after them (its
    start costs 10-40 s on a busy 2-core machine; the actors, kept between
    evaluations, a few seconds each)."""
    from forgekit.evals.ray_executor import release_actors
    from forgekit.evals.ray_start import start_local_ray

    try:
        start_local_ray(2)
    except Exception as e:  # ray-project/ray#65983: a 15 s agent start limit on a busy box
        if "timed out during startup" in str(e):
            pytest.skip(f"a local Ray did not start on this (overloaded) machine: {e}")
        raise
    yield ray
    release_actors()
    ray.shutdown()


def test_ray_actors_give_the_same_table_and_survive_a_killed_actor(tmp_path, local_ray):
    from forgekit.evals.ray_executor import RayExecutor

    with StubServer(latency_ms=150) as stub:
        cfg, suite = _setup(tmp_path, stub.url)
        one = evaluate(suite, Gateway(cfg), out_dir=tmp_path / "one", progress=False)
        executor = RayExecutor(2)  # joins the running local Ray
        out = tmp_path / "ray"
        box: dict = {}

        def run() -> None:
            try:
                box["res"] = evaluate(suite, Gateway(cfg), out_dir=out, progress=False,
                                      executor=executor)
            except BaseException as e:  # reported below
                box["err"] = e

        t = threading.Thread(target=run, daemon=True)
        t.start()
        log = out / "results.jsonl"
        deadline = time.monotonic() + 240
        while not (log.exists() and len(log.read_text().splitlines()) >= 4):
            assert time.monotonic() < deadline and t.is_alive(), box
            time.sleep(0.05)
        ray.kill(executor.actors[0])
        t.join(240)
        assert "err" not in box, box.get("err")
        two = box["res"]
        again = evaluate(suite, Gateway(cfg), out_dir=tmp_path / "again", progress=False,
                         executor=executor)  # on the actors the first run left idle
    assert executor.resubmitted >= 1 and executor.actors == []
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert len(lines) == len({r["sample_id"] for r in lines}) == 24
    for res in (two, again):
        assert res.df.select(COLUMNS).sort("sample_id").equals(
            one.df.select(COLUMNS).sort("sample_id")
        )


def _budget_suite(config, write_suite, n: int):
    config.models.aliases["m1"].price = Price(input_per_1k=1.0, output_per_1k=1.0)
    return write_suite(
        budget={"usd": 0.5},
        concurrency=16,
        solvers=[{"name": "p", "template": "{input}", "params": {"max_tokens": 10}}],
        samples=[{"id": f"s{i:03d}", "input": "x", "target": "0"} for i in range(n)],
    )


def test_a_budget_holds_across_ray_actors(config, write_suite, tmp_path, local_ray):
    """Two actors share one budget (a budget actor): a call that fits only once others
    settle waits, so the budget is used up and never exceeded; a re-run counts what
    earlier runs spent."""
    from forgekit.evals.ray_executor import RayExecutor
    from tests.evals.test_shared_budget import PER_CALL, Priced

    suite = _budget_suite(config, write_suite, 120)
    out = tmp_path / "o"
    res = evaluate(suite, Gateway(config, source=Priced(0.05)), out_dir=out, progress=False,
                   executor=RayExecutor(2))
    spent = sum(json.loads(x)["usd"] for x in (out / LEDGER).read_text().splitlines())
    completed = res.df.filter(res.df["status"] == "completed").height
    assert spent <= 0.5 + 1e-9  # two actors, one budget
    assert completed == int(0.5 / PER_CALL)  # and it was used, not given up early
    assert res.df["cost_usd"].sum() == pytest.approx(spent)
    assert res.stopped and res.stopped.startswith("budget")
    assert res.df.height + res.not_run == 120
    again = evaluate(suite, Gateway(config, source=Priced()), out_dir=out, progress=False,
                     executor=RayExecutor(2))
    assert again.stopped and spent_so_far(out)[0] == pytest.approx(spent)


def test_a_killed_actors_budget_holds_are_cleared(config, write_suite, tmp_path, local_ray):
    """An actor killed with calls in flight (and calls waiting for room): what it held
    is cleared, so the other actor and its replacement use the rest of the budget."""
    from forgekit.evals.ray_executor import RayExecutor
    from tests.evals.test_shared_budget import PER_CALL, BudgetedRunInThread

    suite = _budget_suite(config, write_suite, 120)
    executor = RayExecutor(2)
    run = BudgetedRunInThread(suite, config, tmp_path / "o", executor)
    run.wait_for_ledger(6, timeout_s=120)
    ray.kill(executor.actors[0])  # with calls in flight
    res, spent = run.result()
    assert executor.resubmitted >= 1
    assert 0.5 - 2 * PER_CALL < spent <= 0.5 + 1e-9  # used up, not left held by the dead
    assert res.stopped and res.stopped.startswith("budget")

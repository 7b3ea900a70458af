"""RunDashboard: updates, eval records, an EventBus, a real eval-like background run."""

from __future__ import annotations

import asyncio

import pytest

from forgekit.core.bus import EventBus
from forgekit.core.events import RunEnd, RunStart, ScoreEvent
from forgekit.notebook import RunDashboard, run_in_background


def test_update_sets_totals_and_accuracy() -> None:
    d = RunDashboard("demo", total=10)
    d.update(done=4, correct=3, cost=0.01, errors=0)
    assert d.accuracy == pytest.approx(0.75)
    d.update(done=5, errors=1)
    assert d.scored == 4 and d.state()["done"] == 5 and "5/10" in d.html()


def test_records_per_cell_then_comparison() -> None:
    d = RunDashboard("matrix", total=4)
    for model, score, status in [
        ("a", 1.0, "completed"),
        ("a", 0.0, "completed"),
        ("b", 1.0, "completed"),
        ("b", None, "failed"),
    ]:
        d.record(
            {
                "model": model,
                "solver": "qa",
                "score": score,
                "status": status,
                "cost_usd": 0.001,
                "error": "boom" if status == "failed" else None,
            }
        )
    s = d.state()
    assert (s["done"], s["errors"], s["scored"]) == (4, 1, 3)
    assert s["error_messages"] == ["boom"]
    assert {c["label"]: c["accuracy"] for c in s["cells"]} == {"a/qa": 0.5, "b/qa": 1.0}
    d.show_results(
        [
            {
                "model": "a",
                "solver": "qa",
                "accuracy": 0.5,
                "cost_usd": 0.002,
                "ci_low": 0.1,
                "ci_high": 0.9,
            },
            {"model": "b", "solver": "qa", "accuracy": 1.0, "cost_usd": 0.004},
        ]
    )
    s = d.state()
    assert s["status"] == "done" and [r["label"] for r in s["rows"]] == ["a/qa", "b/qa"]
    assert s["plot_svg"].startswith("<svg") and "total cost (USD)" in s["plot_svg"]
    assert ">a/qa<" in s["plot_svg"] and ">b/qa<" in s["plot_svg"]
    assert "accuracy" in s["columns"] and "<table" in d.html()


def test_attach_to_event_bus() -> None:
    bus = EventBus()
    d = RunDashboard("bus")
    detach = d.attach(bus)
    for i, (value, status) in enumerate([(1.0, "completed"), (0.0, "completed"), (None, "failed")]):
        rid = f"r{i}"
        bus.publish_sync("on_event", RunStart(run_id=rid))
        bus.publish_sync("on_event", RunStart(run_id=rid + "c", parent_run_id=rid))
        bus.publish_sync("on_event", RunEnd(run_id=rid + "c", cost_usd=0.5))  # child: no count
        if value is not None:
            bus.publish_sync("on_event", ScoreEvent(run_id=rid, scorer="x", value=value))
        bus.publish_sync(
            "on_event",
            RunEnd(
                run_id=rid, status=status, cost_usd=0.1, error="bad" if status == "failed" else None
            ),
        )
    assert (d.done, d.errors, d.accuracy) == (3, 1, 0.5)
    assert d.cost == pytest.approx(0.3) and not bus.errors
    detach()
    bus.publish_sync("on_event", RunEnd(run_id="r0"))
    assert d.done == 3


def test_background_run_streams_into_the_widget() -> None:
    d = RunDashboard("bg", total=20)
    widget = d.widget
    seen: list[int] = []
    widget.observe(lambda ch: seen.append(ch["new"]["done"]), names="data")

    async def work() -> str:
        for i in range(20):
            d.record({"score": float(i % 2), "cost_usd": 0.001})
            await asyncio.sleep(0.01)
        d.finish()
        return "ok"

    run = run_in_background(work())
    assert run.result(timeout=30) == "ok" and run.status == "completed"
    assert widget.data["done"] == 20 and widget.data["status"] == "done"
    assert len(seen) >= 2 and seen[-1] == 20  # intermediate pushes, latest state last


def test_background_run_reports_errors_and_cancels() -> None:
    async def boom() -> None:
        raise RuntimeError("bad")

    r = run_in_background(boom)
    with pytest.raises(RuntimeError):
        r.result(timeout=10)
    assert r.status == "failed"

    async def forever() -> None:
        await asyncio.sleep(3600)

    r = run_in_background(forever())
    for _ in range(100):
        if r._task is not None:
            break
        r.thread.join(0.01)
    assert r.cancel()
    r.thread.join(10)
    assert r.status == "cancelled"


def test_follow_an_eval_results_log_and_watch_the_run(tmp_path) -> None:
    import json
    import threading

    out = tmp_path / "eval"
    out.mkdir()
    log = out / "results.jsonl"
    log.write_text(json.dumps({"status": "completed", "score": 1.0}) + "\n")  # a resumed one
    d = RunDashboard("follow", total=3)
    d.follow(out)
    release = threading.Event()

    def eval_like() -> list[dict]:
        with log.open("a") as f:
            for score, status in [(1.0, "completed"), (0.0, "completed"), (None, "failed")]:
                f.write(
                    json.dumps(
                        {
                            "model": "m",
                            "solver": "s",
                            "score": score,
                            "status": status,
                            "cost_usd": 0.01,
                        }
                    )
                )
                f.flush()
                f.write("\n")
                f.flush()
        release.wait(10)
        return [{"model": "m", "solver": "s", "accuracy": 0.5, "cost_usd": 0.03}]

    job = run_in_background(eval_like)
    d.watch(job)
    for _ in range(400):
        if d.done >= 3:
            break
        release.wait(0.025)
    assert (d.done, d.errors, d.accuracy) == (3, 1, 0.5)  # the earlier record is not counted
    release.set()
    job.result(timeout=10)
    for _ in range(400):
        if d.status == "done":
            break
        release.wait(0.025)
    assert d.status == "done" and d.rows[0]["label"] == "m/s"

    failing = RunDashboard("boom")
    failing.watch(run_in_background(lambda: 1 / 0))
    for _ in range(400):
        if failing.status != "running":
            break
        release.wait(0.025)
    assert failing.status == "failed" and "ZeroDivisionError" in failing.message


def test_free_models_plot_against_tokens_and_done_is_not_0_of_unknown() -> None:
    from forgekit.notebook import RunDashboard

    rows = [{"label": "a", "accuracy": 0.5, "cost_usd": 0.0, "tokens": 1200},
            {"label": "b", "accuracy": 0.75, "cost_usd": 0.0, "tokens": 300}]
    free = RunDashboard("free")
    free.show_results(rows)
    svg = free.state()["plot_svg"]
    assert svg.startswith('<svg class="fk-plot"')
    assert "e-09" not in svg and "tokens (every model costs $0)" in svg
    assert ">1200<" in svg and ">a<" in svg and ">b<" in svg  # a token tick, the labels
    assert free.state()["plot_svg"] is svg  # drawn once per set of results
    bare = RunDashboard("bare")
    bare.show_results([{"label": "a", "accuracy": 0.5, "cost_usd": 0.0}])
    assert "e-09" not in bare.state()["plot_svg"] and "$0 for every cell" in bare.state()["plot_svg"]
    d = RunDashboard("results only")
    d.show_results([{"model": "m", "solver": "s", "accuracy": 0.5, "cost_usd": 0.0,
                     "samples": 6, "runs": 6}])
    html = d.html()
    assert "samples 6/6" in html and "0/?" not in html
    f = RunDashboard("finished")
    f.update(done=3)
    f.finish()
    assert f.total == 3 and "samples 3/3" in f.html()

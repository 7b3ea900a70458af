import asyncio

from forgekit.core import MemorySink, ModelCall, RunContext, RunEnd, RunStart, Sample
from forgekit.core.bus import EventBus
from forgekit.models import Gateway, ScriptedSource


def test_ctx_complete_records_a_model_call_with_the_call_key(project):
    src = ScriptedSource(["four"])
    sink = MemorySink()
    ctx = RunContext(gateway=Gateway(source=src), sink=sink,
                     sample=Sample(id="s1", input="2+2?"), epoch=1, attempt=2)
    r = asyncio.run(ctx.complete("2+2?"))
    assert r.text == "four"
    (ev,) = sink.events
    assert isinstance(ev, ModelCall) and ev.seq == 0 and ev.run_id == sink.run_id
    assert ev.call_key == {"sample": "s1", "epoch": 1, "attempt": 2, "seed": None}
    assert src.requests[0].call_key["attempt"] == 2


def test_child_runs_link_to_their_parent(project):
    sink = MemorySink()
    ctx = RunContext(gateway=Gateway(source=ScriptedSource(["a"])), sink=sink)
    child = ctx.child("best_of_n/candidate", attempt=3)
    assert child.attempt == 3
    asyncio.run(child.complete("q"))
    child.end(status="completed")
    (c,) = sink.children
    assert c.parent_run_id == sink.run_id
    assert isinstance(c.events[0], RunStart) and c.events[0].solver == "best_of_n/candidate"
    assert isinstance(c.events[-1], RunEnd)


def test_a_failing_subscriber_is_reported_not_fatal():
    bus = EventBus()
    seen = []
    bus.subscribe("on_step_done", lambda step: 1 / 0)
    bus.subscribe("on_step_done", seen.append)
    asyncio.run(bus.publish("on_step_done", 7))
    assert seen == [7]
    assert bus.errors and "ZeroDivisionError" in bus.errors[0][1]

"""TrajectoryInspector over a real recorded run: state, child navigation, both views."""

from __future__ import annotations

from pathlib import Path

import pytest

from forgekit.core.events import ModelCall, RunEnd, RunStart, StepEvent
from forgekit.notebook import TrajectoryInspector


def test_state_has_steps_sections_timeline_and_children(recorded_run: Path) -> None:
    insp = TrajectoryInspector(recorded_run)
    data = insp.state()
    assert data["run"]["solver"] == "agent" and data["run"]["status"] == "completed"
    assert data["run"]["answer"] == "42"
    steps = data["steps"]
    assert len(steps) >= 2
    items = [i for s in steps for i in s["items"]]
    step1 = next(i for i in items if i["type"] == "step")
    assert {s["label"] for s in step1["sections"]} == {"thought", "action", "observation"}
    call = next(i for i in items if i["type"] == "model_call")
    labels = {s["label"]: s["text"] for s in call["sections"]}
    # each message on its own, with its role; the response; tokens, cost and latency
    assert labels["user"] == "What is 6*7?" and "calculator" in labels["response"]
    assert dict(call["meta"]) == {"model": "smollm2", "tokens": "12 in / 6 out",
                                  "cost": "$0.000200", "latency": "0.40s"}
    assert call["cost"] == pytest.approx(0.0002) and call["latency"] == pytest.approx(0.4)
    tool = next(i for i in items if i["type"] == "tool_call")
    assert dict(tool["meta"])["decision"] == "allow"
    assert {s["label"]: s["text"] for s in tool["sections"]} == {
        "arguments": '{\n "expr": "6*7"\n}', "result": "42"}
    score = next(i for i in items if i["type"] == "score")
    assert {s["label"] for s in score["sections"]} >= {"answer", "target"}
    assert data["run"]["scores"] == [{"scorer": "exact", "value": 1.0, "explanation": None}]
    assert {"model_call", "tool_call", "step", "score"} <= set(data["types"])
    assert steps[0]["cost"] > 0 and steps[0]["latency"] > 0  # the timeline's bars
    assert [c["solver"] for c in data["children"]] == ["reviewer"]


def test_child_navigation_by_front_end_messages(recorded_run: Path) -> None:
    insp = TrajectoryInspector(recorded_run)
    child_id = insp.state()["children"][0]["run_id"]
    assert insp.widget is not None  # a real anywidget; actions arrive as custom messages
    insp._on_msg(insp.widget, {"action": "open", "run_id": child_id}, [])
    data = insp.widget.data
    assert data["run"]["solver"] == "reviewer"
    assert [c["solver"] for c in data["breadcrumb"]] == ["agent", "reviewer"]
    assert "looks right" in str(data["steps"])
    insp._on_msg(insp.widget, {"action": "back", "depth": 0}, [])
    assert insp.widget.data["run"]["solver"] == "agent"
    insp._on_msg(insp.widget, {"action": "open", "run_id": "nope"}, [])  # logged, no crash
    assert insp.current is insp.root


def test_mimebundle_has_widget_and_static_html(recorded_run: Path) -> None:
    bundle = TrajectoryInspector(recorded_run)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "fk-static-inspector" in bundle["text/html"]
    assert "calculator" in bundle["text/html"]


def test_from_plain_events() -> None:
    events = [
        RunStart(run_id="r1", solver="plain"),
        ModelCall(run_id="r1", seq=1, alias="local", text="hi"),
        StepEvent(run_id="r1", seq=2, step=1, thought="t", observation="o"),
        RunEnd(run_id="r1", seq=3, answer="hi"),
    ]
    data = TrajectoryInspector(events).state()
    assert data["run"]["run_id"] == "r1" and len(data["steps"]) == 1
    with pytest.raises(TypeError):
        TrajectoryInspector(42)


def test_reload_shows_new_events_of_a_run_being_recorded(tmp_path: Path) -> None:
    from forgekit.trajectory import Recorder

    rec = Recorder.start(tmp_path / "runs", solver="live")
    rec.emit(StepEvent(step=1, thought="first"))
    insp = TrajectoryInspector(rec.path)
    assert insp.state()["run"]["status"] == "interrupted"  # no RunEnd yet
    rec.emit(StepEvent(step=2, thought="second"))
    rec.finish(status="completed", answer="done")
    insp._on_msg(insp.widget, {"action": "reload"}, [])
    data = insp.widget.data
    assert data["run"]["status"] == "completed" and "second" in str(data["steps"])


def test_an_agent_loop_shows_each_message_once(tmp_path: Path) -> None:
    """Each call of an agent loop repeats the conversation; the transcript shows the
    messages added since the call before, so it grows linearly with the run."""
    from forgekit.core.events import ModelCall, ScoreEvent
    from forgekit.core.messages import Message, Usage
    from forgekit.notebook.transcript import trajectory_state
    from forgekit.trajectory import Recorder, Trajectory

    rec = Recorder.start(tmp_path, solver="agent", models=["m"])
    convo = [Message.system("be brief"), Message.user("q")]
    for turn in range(3):
        rec.emit(ModelCall(alias="m", messages=list(convo), text=f"reply {turn}",
                           usage=Usage(input_tokens=3 + turn, output_tokens=2)))
        convo += [Message.assistant(f"reply {turn}"), Message.user(f"more {turn}")]
    rec.emit(ScoreEvent(scorer="judge", value=0.5, explanation="half right", target="x"))
    rec.finish(status="completed", answer="reply 2")
    state = trajectory_state(Trajectory.load(rec.path))
    calls = [i for s in state["steps"] for i in s["items"] if i["type"] == "model_call"]
    first, second = ([x["label"] for x in c["sections"]] for c in calls[:2])
    assert first == ["system", "user", "response"]
    assert second == ["earlier", "assistant", "user", "response"]
    assert state["run"]["scores"][0]["explanation"] == "half right"

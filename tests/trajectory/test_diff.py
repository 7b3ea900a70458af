import asyncio

from forgekit.core import Sample
from forgekit.trajectory import Trajectory, diff
from tests.trajectory.trajectory_helpers import LoopSolver, record_run


def _run(tmp_path, gateway_factory, replies, name):
    run_id = asyncio.run(
        record_run(
            LoopSolver(steps=3),
            Sample(id="s", input="go"),
            gateway_factory(replies),
            tmp_path / name,
        )
    )
    return Trajectory.load(run_id, tmp_path / name)


def test_identical_runs_differ_only_in_ignored_fields(tmp_path, gateway_factory):
    a = _run(tmp_path, gateway_factory, ["x", "y", "z"], "a")
    b = _run(tmp_path, gateway_factory, ["x", "y", "z"], "b")
    assert a.run_id != b.run_id
    d = diff(a, b)
    assert d.same and d.index is None and "identical" in d.summary()
    assert "!" not in d.text().split("\n", 2)[2]


def test_first_divergence_and_side_by_side_steps(tmp_path, gateway_factory):
    a = _run(tmp_path, gateway_factory, ["x", "y", "z"], "a")
    b = _run(tmp_path, gateway_factory, ["x", "Y", "z"], "b")
    d = diff(a, b)
    assert not d.same
    # run_start, call 0, tool 0, step 0, call 1 <- differs
    assert d.index == 4 and d.left_event.type == "model_call" and d.left_event.seq == 4
    assert "text" in d.fields and "usage" not in d.fields
    lines = d.text().splitlines()
    marked = [ln for ln in lines if ln.startswith("!")]
    assert len(marked) == 2  # steps 1 and 2 differ (the reply, then the grown context)
    assert "calc(1): observation 1 for y" in marked[0] and "observation 1 for Y" in marked[0]
    html = d._repr_html_()
    assert html.count("class='fk-diff'") == 2 and a.run_id in html


def test_a_shorter_run_diverges_where_it_ends(tmp_path, gateway_factory):
    a = _run(tmp_path, gateway_factory, ["x", "y", "z"], "a")
    run_id = asyncio.run(
        record_run(
            LoopSolver(steps=2),
            Sample(id="s", input="go"),
            gateway_factory(["x", "y"]),
            tmp_path / "c",
        )
    )
    c = Trajectory.load(run_id, tmp_path / "c")
    d = diff(a, c)
    assert d.index == 0 and "config" in d.fields  # solver config differs: steps=3 vs 2

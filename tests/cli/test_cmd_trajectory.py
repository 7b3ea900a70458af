import asyncio
import json

from forgekit.cli.main import main
from forgekit.core import Sample
from tests.trajectory.trajectory_helpers import LoopSolver, record_run


def _two_runs(tmp_path, gateway_factory):
    a = asyncio.run(
        record_run(
            LoopSolver(steps=2), Sample(id="s", input="go"), gateway_factory(["x", "y"]), tmp_path
        )
    )
    b = asyncio.run(
        record_run(
            LoopSolver(steps=2), Sample(id="s", input="go"), gateway_factory(["x", "z"]), tmp_path
        )
    )
    return a, b


def test_runs_commands(tmp_path, gateway_factory, capsys):
    a, b = _two_runs(tmp_path, gateway_factory)
    rd = ["runs", "--runs-dir", str(tmp_path)]
    assert main([*rd, "list", "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("run_id,solver") and len(out) == 3
    assert main([*rd, "show", a]) == 0
    out = capsys.readouterr().out
    assert out.startswith(a) and "calc(1)" in out and "status: completed" in out
    assert main([*rd, "diff", a, b]) == 1
    assert "first difference at event #4" in capsys.readouterr().out
    assert main([*rd, "diff", a, a]) == 0
    capsys.readouterr()
    assert main([*rd, "compact"]) == 0
    assert "compacted 2 runs" in capsys.readouterr().out
    assert main([*rd, "stats", "cost", "--format", "jsonl"]) == 0
    row = json.loads(capsys.readouterr().out.splitlines()[0])
    assert row["alias"] == "local" and row["calls"] == 4
    assert main([*rd, "query", "select count(*) as n from steps", "--format", "csv"]) == 0
    assert capsys.readouterr().out.split() == ["n", "4"]
    out_file = tmp_path / "x" / "run.csv"
    assert main([*rd, "export", a, "-o", str(out_file)]) == 0
    assert out_file.read_text().startswith("run_id,parent_run_id,seq")
    assert main([*rd, "show", "missing"]) == 2
    assert "no run 'missing'" in capsys.readouterr().err

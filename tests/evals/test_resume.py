"""Resume: a run killed with SIGKILL mid-way, re-run, gives the same final table as an
uninterrupted run, and runs only the samples that had not finished."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from forgekit.evals import EvalResults, evaluate
from forgekit.models import Gateway, ScriptedSource

SAMPLES = [
    {"id": f"s{i:02d}", "input": f"what is {i} + 1?", "target": str(i + 1)} for i in range(30)
]


def answer(request) -> str:
    n = int(request.messages[-1].content.split()[-3])
    return str(n + 1 if n % 3 else n)  # every third sample wrong


SCRIPT = textwrap.dedent("""
    import asyncio
    import sys
    sys.path.insert(0, {tests!r})
    from conftest import make_config
    from test_resume import answer
    from forgekit.evals import evaluate
    from forgekit.models import Gateway, ScriptedSource
    class Stalling(ScriptedSource):  # stalls after 40 calls: killed mid-way on any machine
        async def complete(self, request):
            if len(self.requests) >= 40:
                await asyncio.sleep(3600)
            return await super().complete(request)
    gw = Gateway(make_config({root!r}), source=Stalling(answer, delay_s=0.05))
    evaluate({suite!r}, gw, out_dir={out!r}, progress=False)
    print("FINISHED")
""")


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_sigkill_then_resume_gives_the_same_table(config, write_suite, tmp_path: Path) -> None:
    suite = write_suite(
        samples=SAMPLES,
        models=["m1"],
        concurrency=2,
        solvers=[
            {"name": "a", "template": "{input}"},
            {"name": "b", "template": "{input}", "system": "Be brief."},
        ],
    )
    out = tmp_path / "killed"
    script = tmp_path / "run.py"
    script.write_text(
        SCRIPT.format(
            tests=str(Path(__file__).parent), root=str(tmp_path), suite=str(suite), out=str(out)
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log = out / "results.jsonl"
    deadline = time.monotonic() + 60
    while _lines(log) < 12 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    finished = _lines(log)
    assert 12 <= finished < 60, "the run should have been killed mid-way"
    assert not (out / "results.parquet").exists()

    src = ScriptedSource(answer)
    resumed = evaluate(suite, Gateway(config, source=src), out_dir=out, progress=False)
    done_before = sum(
        1 for line in log.read_text().splitlines()[:finished] if line.strip().endswith("}")
    )
    assert len(src.requests) == 60 - done_before  # finished samples were skipped
    assert resumed.df.height == 60

    clean = evaluate(
        suite,
        Gateway(config, source=ScriptedSource(answer)),
        out_dir=tmp_path / "clean",
        progress=False,
    )
    assert resumed.stable_table().equals(clean.stable_table())
    assert resumed.summary().drop("latency_s").equals(clean.summary().drop("latency_s"))
    # the log is kept, the merged table is complete, no temp file is left behind
    assert _lines(log) >= 60 and not list(out.glob("*.tmp"))
    # runs the kill left open were closed as interrupted (superseded) by the resume
    from forgekit.trajectory.leftovers import is_open

    assert not any(is_open(p) for p in (out / "runs").glob("*.jsonl"))
    assert EvalResults.load(out).df.height == 60


def test_torn_last_line_is_rerun(config, write_suite, tmp_path: Path) -> None:
    suite = write_suite(samples=SAMPLES[:5])
    out = tmp_path / "o"
    first = evaluate(
        suite, Gateway(config, source=ScriptedSource(answer)), out_dir=out, progress=False
    )
    (out / "results.parquet").unlink()
    lines = (out / "results.jsonl").read_text().splitlines()
    # the last record was being written when the process died
    (out / "results.jsonl").write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:40])
    src = ScriptedSource(answer)
    again = evaluate(suite, Gateway(config, source=src), out_dir=out, progress=False)
    assert len(src.requests) == 1
    assert again.stable_table().equals(first.stable_table())
    for line in (out / "results.jsonl").read_text().splitlines()[-1:]:
        json.loads(line)  # the new record starts on a line of its own


def test_a_second_run_makes_no_model_calls(config, write_suite, tmp_path: Path) -> None:
    suite = write_suite(samples=SAMPLES[:4])
    evaluate(
        suite,
        Gateway(config, source=ScriptedSource(answer)),
        out_dir=tmp_path / "o",
        progress=False,
    )
    src = ScriptedSource([])
    res = evaluate(suite, Gateway(config, source=src), out_dir=tmp_path / "o", progress=False)
    assert src.requests == [] and res.df.height == 4


def test_another_config_in_the_same_out_dir_reruns_and_returns_nothing_stale(
    config, write_suite, tmp_path
) -> None:
    suite = write_suite(samples=SAMPLES[:2])
    first = evaluate(
        suite,
        Gateway(config, source=ScriptedSource(answer)),
        out_dir=tmp_path / "o",
        progress=False,
    )
    other = write_suite(samples=SAMPLES[:2], seed=7)
    src = ScriptedSource(answer)
    res = evaluate(other, Gateway(config, source=src), out_dir=tmp_path / "o", progress=False)
    assert len(src.requests) == 2  # another seed: every sample runs again
    assert res.eval_id != first.eval_id and res.df.height == 2
    assert set(res.df["eval_id"].to_list()) == {res.eval_id}
    assert set(res.df["seed"].to_list()).isdisjoint(first.df["seed"].to_list())


JUDGED = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from conftest import make_config
    from test_resume import judged_source
    from forgekit.evals import evaluate
    from forgekit.models import Gateway
    from forgekit.models.cache import ResponseCache
    cache = ResponseCache({root!r} + "/cache")
    gw = Gateway(make_config({root!r}), source=judged_source(0.2, stall_after=20), cache=cache)
    evaluate({suite!r}, gw, out_dir={out!r}, progress=False)
""")


def judged_source(judge_delay_s: float = 0.0, stall_after: int | None = None):
    """Answers the questions and grades them (the judge alias is m2, slow in the killed
    run, so samples in flight have their answer cached and their grade pending); usage
    depends on the text, so a cached reply must bring back its own tokens and cost.
    `stall_after` judge calls, it stops answering (the killed run is then mid-way however
    slow or loaded the machine is)."""
    import asyncio

    from forgekit.core.messages import ModelResponse, Usage

    judged = 0

    class Judged:
        async def complete(self, request):
            nonlocal judged
            if request.alias == "m2":
                judged += 1
                if stall_after is not None and judged > stall_after:
                    await asyncio.sleep(3600)
                await asyncio.sleep(judge_delay_s)
                graded = "Submitted answer:\n1" in request.messages[-1].content
                text = "GRADE: C" if graded else "looks wrong\nGRADE: I"
            else:
                text = answer(request)
            words = sum(len(m.content.split()) for m in request.messages)
            return ModelResponse(text=text,
                                 usage=Usage(input_tokens=words, output_tokens=len(text)))

    return Judged()


def test_sigkill_then_resume_from_cache_records_the_same_costs(
    config, write_suite, tmp_path: Path
) -> None:
    from forgekit.core.config import Price

    suite = write_suite(samples=SAMPLES, concurrency=2,
                        scorers=[{"type": "judge", "model": "m2"}, "numeric"])
    out = tmp_path / "killed"
    script = tmp_path / "judged.py"
    script.write_text(JUDGED.format(tests=str(Path(__file__).parent), root=str(tmp_path),
                                    suite=str(suite), out=str(out)))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    log = out / "results.jsonl"
    deadline = time.monotonic() + 60
    while _lines(log) < 8 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 8 <= _lines(log) < 30, proc.stdout.read().decode()[-2000:]
    # the resume gets the replies of samples that were in flight from the cache
    from forgekit.models.cache import ResponseCache

    resumed_gw = Gateway(config, source=judged_source(), cache=ResponseCache(tmp_path / "cache"))
    resumed = evaluate(suite, resumed_gw, out_dir=out, progress=False)
    assert resumed_gw.cache.stats()["hits"] > 0
    from tests.evals.conftest import make_config

    (tmp_path / "clean-project").mkdir()
    clean_cfg = make_config(tmp_path / "clean-project")
    clean = evaluate(suite, Gateway(clean_cfg, source=judged_source(), cache=False),
                     out_dir=tmp_path / "clean", progress=False)
    assert config.models.aliases["m2"].price == Price(input_per_1k=0.01, output_per_1k=0.02)
    assert resumed.df["cost_usd"].sum() > 0
    assert resumed.stable_table().equals(clean.stable_table())


def test_transient_provider_failures_run_again_on_resume(write_suite, tmp_path,
                                                         monkeypatch) -> None:
    """A 503 from a (local, fault-injecting) server fails its sample; the next run
    retries it by default. A failure of the solver itself stays, unless retry_errors."""
    from forgekit.core.config import AliasConfig, load_config
    from forgekit.models.stub_server import Fault, StubServer

    suite = write_suite(samples=SAMPLES[:4], models=["m1"], concurrency=1)
    with StubServer(latency_ms=0, reply="5") as stub:
        monkeypatch.setenv("STUB_KEY", "k")
        cfg = load_config(env={"FORGEKIT_HOME": str(tmp_path)})
        cfg.cache.enabled = False
        cfg.models.aliases["m1"] = AliasConfig(model="openai/stub", api_base=stub.url,
                                               api_key_env="STUB_KEY", max_retries=0)
        out = tmp_path / "o"
        stub.script([Fault.status(503)])  # the first request: the provider is down
        first = evaluate(suite, Gateway(cfg), out_dir=out, progress=False)
        errors = [e for e in first.df["error"].to_list() if e]
        assert len(errors) == 1 and errors[0].startswith("ModelUnavailable")
        before = stub.count
        again = evaluate(suite, Gateway(cfg), out_dir=out, progress=False)
        assert stub.count == before + 1  # only the failed sample ran again
        assert again.df["status"].to_list() == ["completed"] * 4


def test_a_solver_failure_stays_unless_retry_errors(config, write_suite, tmp_path) -> None:
    suite = write_suite(samples=SAMPLES[:3])
    out = tmp_path / "o"

    def broken(request):
        if "what is 1 +" in request.messages[-1].content:
            raise RuntimeError("solver bug")
        return answer(request)

    evaluate(suite, Gateway(config, source=ScriptedSource(broken)), out_dir=out,
             progress=False)
    src = ScriptedSource(answer)
    kept = evaluate(suite, Gateway(config, source=src), out_dir=out, progress=False)
    assert src.requests == [] and kept.df["status"].to_list().count("failed") == 1
    fixed = evaluate(suite, Gateway(config, source=src), out_dir=out, progress=False,
                     retry_errors=True)
    assert len(src.requests) == 1 and fixed.df["status"].to_list() == ["completed"] * 3

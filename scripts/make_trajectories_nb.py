"""Writes notebooks/trajectories.ipynb (execute it with papermill to store outputs)."""

import nbformat as nbf

cells = []


def md(text):
    cells.append(nbf.v4.new_markdown_cell(text))


def code(text, tags=()):
    c = nbf.v4.new_code_cell(text)
    if tags:
        c.metadata["tags"] = list(tags)
    cells.append(c)


md("""# Trajectories: record, query, diff, replay, MLflow

Every run is recorded as a trajectory (JSON lines, flushed per event). This notebook records
a few runs on the embedded local model, queries them with DuckDB, diffs two, replays one with
**zero** model calls, and logs it to MLflow. See `docs/trajectories.md`.""")
code('''model = "local"
max_tokens = 24
project_dir = None     # None = this project (FORGEKIT_HOME, or the checkout)''', tags=["parameters"])
code('''import os
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
if project_dir:
    os.environ["FORGEKIT_HOME"] = str(project_dir)
from forgekit.core.config import load_config

config = load_config()
runs_dir = config.path(config.runs_dir)   # the project's runs: forgekit runs list shows them''')
md("## Record three runs\n\nA tiny solver: ask the model, then ask it to check its answer. "
   "Both calls go through `ctx`, so both land in the run's trajectory.")
code('''from forgekit.core import RunContext, Sample
from forgekit.models import Gateway
from forgekit.trajectory import Recorder

async def two_step(sample, ctx):
    first = await ctx.complete(sample.input, max_tokens=max_tokens)
    check = await ctx.complete(
        [{"role": "user", "content": sample.input},
         {"role": "assistant", "content": first.text},
         {"role": "user", "content": "Check your answer. Reply with the final answer only."}],
        max_tokens=max_tokens)
    return check.text

gw = Gateway()
samples = [Sample(id="add", input="What is 2 + 3?"),
           Sample(id="capital", input="What is the capital of Italy?"),
           Sample(id="add-again", input="What is 2 + 3?")]
paths = []
for s in samples:
    rec = Recorder.start(runs_dir, solver="two_step", models=[model], sample_id=s.id)
    ctx = RunContext(gateway=gw, sink=rec, model=model, sample=s)
    answer = await two_step(s, ctx)
    rec.finish(status="completed", answer=answer)
    paths.append(rec.path)
print(len(paths), "runs recorded")''')
code('''from forgekit.trajectory import Trajectory

t = Trajectory.load(paths[0])
t''', tags=["nbval-ignore-output"])
code('''print(t.status, "| model calls:", t.totals()["model_calls"])''')
md("## Query across runs\n\n`TrajectoryStore` registers DuckDB views over the run files "
   "(and compacted Parquet); results come back as polars DataFrames.")
code('''from forgekit.trajectory import TrajectoryStore

store = TrajectoryStore(runs_dir)
store.runs().select("sample_id", "status", "model_calls", "total_tokens").sort("sample_id")''',
     tags=["nbval-ignore-output"])
code('''ours = ", ".join(f"'{Path(p).stem}'" for p in paths)   # the store holds other runs too
calls = store.query("select count(*) as calls, sum(output_tokens) > 0 as counted "
                    f"from model_calls where run_id in ({ours})")
print(calls.to_dicts())''')
md("## Diff two runs\n\nTwo different questions: the diff names the first event where the "
   "runs part ways and shows their steps side by side.")
code('''from forgekit.trajectory import diff

d = diff(Trajectory.load(paths[0]), Trajectory.load(paths[1]))
print("same:", d.same, "| first divergence at event", d.index)''')
code('''print(d.text())''', tags=["nbval-ignore-output"])
md("## Replay offline\n\nA gateway whose source is the recording answers every request from "
   "it: the same solver on the same sample makes zero model calls and gives the same answer.")
code('''from forgekit.trajectory import ReplaySource

original = Trajectory.load(paths[0])
replay = ReplaySource(original)
gw_replay = Gateway(source=replay)
rec = Recorder.start(runs_dir / "replays", solver="two_step", models=[model], sample_id="add")
answer = await two_step(samples[0], RunContext(gateway=gw_replay, sink=rec, model=model,
                                                sample=samples[0]))
rec.finish(status="completed", answer=answer)
assert answer == original.answer
print("replayed answer identical:", answer == original.answer, "| remaining recorded calls:",
      replay.remaining)''')
code('''from forgekit.core import ReplayDivergence

try:
    await gw_replay.acomplete("A question the recording never saw", model=model)
except ReplayDivergence as e:
    print("ReplayDivergence:", str(e).splitlines()[0])''', tags=["nbval-ignore-output"])
md("## The run in MLflow\n\nParams, metrics, the trajectory file as an artifact, and a trace "
   "with a span per model call. `forgekit ui` opens it.")
code('''from forgekit.tracking import log_trajectory, resolve_tracking_uri
import mlflow

run_id = log_trajectory(original)
run = mlflow.MlflowClient(resolve_tracking_uri()).get_run(run_id)
print("metrics:", sorted(run.data.metrics))
print("artifacts:", [a.path for a in mlflow.MlflowClient(resolve_tracking_uri()).list_artifacts(run_id)])
assert run.data.metrics["model_calls"] == 2''', tags=["nbval-ignore-output"])
code('''gw.close()''')

nb = nbf.v4.new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbf.write(nb, "notebooks/trajectories.ipynb")
print("written")

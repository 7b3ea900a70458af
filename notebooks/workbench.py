"""forgekit workbench: browse a project's trajectories, eval results and pipeline runs.

    marimo run notebooks/workbench.py                 # the project (FORGEKIT_HOME, or up from the cwd)
    FORGEKIT_PROJECT=/path/to/project marimo run notebooks/workbench.py
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full", app_title="forgekit workbench")


@app.cell
def _():
    import os
    from pathlib import Path

    import marimo as mo

    return Path, mo, os


@app.cell
def _(mo, os):
    from forgekit.core.config import project_root

    # the project every notebook, CLI command and pipeline writes to (FORGEKIT_HOME, or
    # the nearest folder up with forgekit.yaml or .forgekit/)
    project_box = mo.ui.text(value=os.environ.get("FORGEKIT_PROJECT") or str(project_root()),
                             label="project directory", full_width=True)
    project_box
    return (project_box,)


@app.cell
def _(Path, project_box):
    from forgekit.notebook.workbench import list_evals, list_runs
    from forgekit.pipelines import list_pipeline_runs

    project = Path(project_box.value).expanduser().resolve()
    runs = list_runs(project)
    evals = list_evals(project)
    pipeline_runs = list_pipeline_runs(project)
    return evals, pipeline_runs, project, runs


@app.cell
def _(evals, mo, pipeline_runs, project, runs):
    mo.md(f"## {project}\n\n{len(runs)} runs · {len(evals)} evals · "
          f"{len(pipeline_runs)} pipeline runs")
    return


@app.cell
def _(mo, runs):
    from forgekit.notebook.workbench import runs_table as readable

    runs_table = mo.ui.table(
        readable(runs), selection="single",
        label="trajectories (select one to inspect)", page_size=15)
    runs_table
    return (runs_table,)


@app.cell
def _(mo, runs, runs_table):
    from forgekit.notebook import TrajectoryInspector

    chosen = runs_table.value
    if chosen:
        run_id = chosen[0]["run_id"]
        path = next(r["path"] for r in runs if r["run_id"] == run_id)
        inspector = TrajectoryInspector(path)
        view = mo.ui.anywidget(inspector.widget)
    else:
        inspector = None
        view = mo.md("_select a run above to inspect its steps_")
    view
    return (inspector,)


@app.cell
def _(evals, mo):
    eval_choice = mo.ui.dropdown(options=[e["eval_id"] for e in evals],
                                 value=evals[0]["eval_id"] if evals else None,
                                 label="eval results")
    eval_choice
    return (eval_choice,)


@app.cell
def _(eval_choice, evals, mo):
    from forgekit.notebook import EvalViewer

    picked = next((e for e in evals if e["eval_id"] == eval_choice.value), None)
    if picked is not None:
        viewer = EvalViewer(picked["path"])
        eval_view = viewer._display_()
    else:
        viewer = None
        eval_view = mo.md("_no eval results in this project yet_")
    eval_view
    return (viewer,)


@app.cell
def _(mo, pipeline_runs):
    pipelines_view = (mo.ui.table(pipeline_runs, label="pipeline runs", page_size=15)
                      if pipeline_runs else mo.md("_no pipeline runs yet_"))
    pipelines_view
    return


if __name__ == "__main__":
    app.run()

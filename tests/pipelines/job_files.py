"""Job files for the pipeline tests: a test notebook copied into a project with its job YAML."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).parent / "notebooks"


def job_file(tmp_path: Path, notebook: str, extra: str = "") -> Path:
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    shutil.copy(NOTEBOOKS / notebook, tmp_path / "notebooks" / notebook)
    (tmp_path / "pipelines").mkdir(exist_ok=True)
    f = tmp_path / "pipelines" / f"{Path(notebook).stem}.yaml"
    f.write_text(f"notebook: notebooks/{notebook}\nparameters: {{n: 2}}\n{extra}")
    return f


def notebook_outputs(path: str) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))

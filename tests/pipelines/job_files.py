"""Job files for the pipeline and command-line tests: test notebooks copied into a project
with their job YAML, and an `execute` double for the scheduler."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

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


def trigger_project(root: Path) -> Path:
    """A project with notebooks/params.ipynb and an empty pipelines/ folder."""
    (root / "notebooks").mkdir()
    shutil.copy(NOTEBOOKS / "params.ipynb", root / "notebooks" / "params.ipynb")
    (root / "pipelines").mkdir()
    return root


def write_job(proj: Path, name: str, body: str) -> Path:
    """pipelines/<name>.yaml running notebooks/params.ipynb, with `body` appended."""
    f = proj / "pipelines" / f"{name}.yaml"
    f.write_text("notebook: notebooks/params.ipynb\n" + body)
    return f


class Recorder:
    """An `execute` double: records each call; returns a record with a chosen status."""

    def __init__(self, status: dict[str, str] | None = None, block: bool = False) -> None:
        self.calls: list[dict] = []
        self.status = status or {}
        self.block = block
        self.release = threading.Event()

    def __call__(self, job, *, trigger, scheduled_for, interrupt, stopping, reason, parameters):
        self.calls.append(
            {"job": job.name, "trigger": trigger, "reason": reason, "parameters": parameters}
        )
        if self.block:
            while not self.release.wait(0.01) and not interrupt.is_set():
                pass
        n = len(self.calls)
        return SimpleNamespace(status=self.status.get(job.name, "completed"), run_id=f"r{n}")

    def jobs(self) -> list[str]:
        return [c["job"] for c in self.calls]

"""The child process that executes one notebook with papermill.

`python -m forgekit.pipelines.execute SPEC.json` reads the spec written by the runner,
executes the notebook (saving it after every cell, so a crash keeps what ran), and on
failure writes `error.json` naming the failing cell. Exit status: 0 ok, 1 a cell raised,
2 anything else, 143 stopped by SIGTERM (the kernel is shut down first).

It runs in its own process so the runner can enforce a whole-run timeout and stop a run
without touching the scheduler's process.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any


def _child_pids() -> list[int]:
    """Direct children of this process (the kernel), via psutil or /proc."""
    me = os.getpid()
    try:
        import psutil

        return [p.pid for p in psutil.Process(me).children(recursive=True)]
    except Exception:
        pass
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            out.append(int(stat.parent.name))
    return out


def _on_sigterm(signum: int, frame: Any) -> None:
    # the kernel runs in its own session: stop it ourselves, then leave at once
    for pid in _child_pids():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    os._exit(143)


def _write_error(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    signal.signal(signal.SIGTERM, _on_sigterm)
    error_file = Path(spec["error_file"])
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    try:
        pm.execute_notebook(
            spec["input"],
            spec["output"],
            parameters=spec.get("parameters") or {},
            kernel_name=spec.get("kernel") or "python3",
            cwd=spec.get("cwd"),
            progress_bar=False,
            request_save_on_cell_execute=True,
        )
    except PapermillExecutionError as e:
        _write_error(
            error_file,
            {
                "cell_index": e.cell_index,
                "exec_count": e.exec_count,
                "ename": e.ename,
                "evalue": e.evalue,
                "source": e.source,
            },
        )
        return 1
    except Exception as e:  # kernel died, bad notebook, missing kernel ...
        _write_error(error_file, {"cell_index": None, "ename": type(e).__name__, "evalue": str(e)})
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

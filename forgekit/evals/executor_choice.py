"""The executor an evaluation runs on, from the CLI's words (`--workers`, `--executor`,
`--address`); executors themselves live in `executors.py`, `workers.py` and
`ray_executor.py`."""

from __future__ import annotations

from forgekit.core.errors import ConfigError
from forgekit.evals.executors import Executor, LocalExecutor


def make_executor(
    executor: str | Executor | None = None, *, workers: int = 1, address: str | None = None
) -> Executor:
    """An executor from the CLI's words: None/"local" (with `workers` > 1: processes),
    "processes", "ray" (`address`: an existing cluster; default: a local Ray)."""
    if executor is not None and not isinstance(executor, str):
        return executor
    kind = executor or ("processes" if workers > 1 else "local")
    if kind == "local" and workers <= 1:
        return LocalExecutor()
    if kind in ("local", "processes"):
        from forgekit.evals.workers import ProcessExecutor

        return ProcessExecutor(workers)
    if kind == "ray":
        from forgekit.evals.ray_executor import RayExecutor

        return RayExecutor(actors=max(workers, 1), address=address)
    raise ConfigError(
        f"unknown executor {kind!r}: use local, processes or ray", key="executor"
    )

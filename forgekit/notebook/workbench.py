"""What the marimo workbench (`notebooks/workbench.py`) shows: a project's runs, eval
results and pipeline runs, found on disk. Plain functions, so they are tested without
marimo and usable from any notebook.

Where it looks, under the project directory:
- trajectories: `runs_dir` from forgekit.yaml (default `.forgekit/runs`) and every
  eval's `.forgekit/evals/<eval id>/runs`;
- eval results: `.forgekit/evals/<eval id>/` folders holding `results.parquet`;
- pipeline runs: the runs log of every job in `pipelines/*.yaml`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("forgekit.notebook")


def runs_dirs(project: str | Path) -> list[Path]:
    """Folders of trajectory files in a project (those that exist)."""
    project = Path(project)
    out = []
    runs_dir = ".forgekit/runs"
    try:
        from forgekit.core.config import find_config_file, load_config

        cfg_file = find_config_file(project)
        if cfg_file is not None and cfg_file.parent == project.resolve():
            runs_dir = load_config(cfg_file).runs_dir
    except Exception as e:  # a broken config still lets us browse the defaults
        log.warning("workbench: could not read forgekit.yaml: %s", e)
    main = Path(runs_dir) if Path(runs_dir).is_absolute() else project / runs_dir
    if main.is_dir():
        out.append(main)
    out.extend(sorted(p for p in (project / ".forgekit" / "evals").glob("*/runs") if p.is_dir()))
    return out


def list_runs(project: str | Path, limit: int = 200) -> list[dict[str, Any]]:
    """Top-level runs, newest first: run_id, solver, status, model, cost, path, source."""
    from forgekit.trajectory import TrajectoryStore

    rows: list[dict[str, Any]] = []
    for d in runs_dirs(project):
        try:
            store = TrajectoryStore(d)
            df = store.runs(top_level=True, limit=limit)
            scores = _first_scores(store)
        except Exception as e:
            log.warning("workbench: cannot read runs in %s: %s", d, e)
            continue
        for r in df.to_dicts():
            rows.append(
                {
                    "started": when(r.get("started_at")),
                    "solver": r.get("solver"),
                    "status": r.get("status"),
                    "score": scores.get(r.get("run_id")),
                    "model": r.get("model"),
                    "sample_id": r.get("sample_id"),
                    "cost_usd": r.get("cost_usd"),
                    "run_id": r.get("run_id"),
                    "started_at": r.get("started_at"),
                    "folder": str(d.relative_to(project)) if d.is_relative_to(project) else str(d),
                    "path": str(d / f"{r.get('run_id')}.jsonl"),
                }
            )
    rows.sort(key=lambda r: _epoch(r.get("started_at")), reverse=True)
    return rows[:limit]


def when(ts: Any) -> str:
    """A start time as people read it ("2026-11-21 00:00:00 UTC"), from epoch seconds."""
    from datetime import UTC, datetime

    if ts is None:
        return ""
    try:
        return datetime.fromtimestamp(float(ts), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (TypeError, ValueError, OverflowError, OSError):
        return str(ts)


def _first_scores(store: Any) -> dict[str, Any]:
    """run id -> its first score's value (the primary scorer's), from the scores table."""
    try:
        df = store.table("scores")
    except Exception:  # a store with no scores table yet
        return {}
    out: dict[str, Any] = {}
    for r in df.sort("seq").iter_rows(named=True):
        value = r["value"] if r["value"] is not None else r.get("value_text")
        out.setdefault(r["run_id"], value)
    return out


def _epoch(ts: Any) -> float:
    try:
        return float(ts)
    except (TypeError, ValueError):
        return 0.0


def runs_table(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs as the workbench's table shows them: readable start time first, score
    beside status, no file paths or raw epoch numbers."""
    keep = ("started", "solver", "status", "score", "model", "sample_id", "cost_usd", "run_id")
    return [{k: r.get(k) for k in keep} for r in runs]


def list_evals(project: str | Path) -> list[dict[str, Any]]:
    """Eval result folders: eval_id, path, and their summary rows."""
    out = []
    for d in sorted((Path(project) / ".forgekit" / "evals").glob("*/results.parquet")):
        try:
            from forgekit.evals.results import EvalResults

            res = EvalResults.load(d.parent)
            summary = res.summary().to_dicts()
        except Exception as e:
            log.warning("workbench: cannot read eval results in %s: %s", d.parent, e)
            continue
        out.append({"eval_id": d.parent.name, "path": str(d.parent), "summary": summary})
    return out

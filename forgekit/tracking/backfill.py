"""`forgekit track sync`: upload every trajectory in a runs folder that MLflow lacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from forgekit.tracking.runs import log_records
from forgekit.tracking.session import ensure_experiment, mlflow_session, tracked_runs

if TYPE_CHECKING:
    from forgekit.core.config import ProjectConfig


@dataclass
class SyncReport:
    """What a sync did."""

    uri: str
    experiment: str
    runs_found: int = 0
    already_tracked: int = 0
    uploaded: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{self.runs_found} runs in the folder, {self.uploaded} uploaded, "
            f"{self.already_tracked} already in MLflow ({self.uri}, experiment "
            f"{self.experiment!r})"
        )
        return text + "".join(f"\n  skipped {p}" for p in self.problems)


def sync_runs(
    runs_dir: str | Path | None = None,
    *,
    config: ProjectConfig | None = None,
    uri: str | None = None,
    experiment: str | None = None,
    traces: bool = True,
) -> SyncReport:
    """Upload every run under `runs_dir` that is not yet in MLflow (by its
    `forgekit.run_id` tag). Running it again uploads nothing.

    Unlike the logging functions this one raises when the store is unreachable: it is
    what a user runs on purpose, and should say why it failed.

    Args:
        runs_dir: the trajectories folder (default: `runs_dir` of forgekit.yaml).
        config: the project config (default: `load_config()`).
        uri: a tracking URI overriding the resolved one.
        experiment: the MLflow experiment (default: `tracking.experiment`).
        traces: also write each new root run as an MLflow trace.
    """
    from forgekit.core.config import load_config
    from forgekit.tracking.uri import resolve_tracking_uri

    config = config or load_config()
    uri = uri or resolve_tracking_uri(config)
    experiment = experiment or config.tracking.experiment
    folder = Path(runs_dir) if runs_dir is not None else config.path(config.runs_dir)
    report = SyncReport(uri=uri, experiment=experiment)
    if not folder.is_dir():
        report.problems.append(f"{folder}: no such folder")
        return report
    from forgekit.trajectory import Trajectory

    roots, report.problems = Trajectory.load_folder(folder)
    report.runs_found = sum(1 for r in roots for _ in r.walk())
    with mlflow_session(uri) as client:
        exp = ensure_experiment(client, uri, experiment)
        known = tracked_runs(client, exp)
        _, report.uploaded = log_records(client, exp, roots, traces=traces, known=known)
    report.already_tracked = report.runs_found - report.uploaded
    return report

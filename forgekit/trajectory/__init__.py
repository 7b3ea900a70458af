"""forgekit.trajectory: record runs as JSON lines, read them back, query, diff and replay them.

from forgekit.trajectory import Recorder, Trajectory, TrajectoryStore, ReplaySource
"""

from forgekit.trajectory.compaction import CompactionReport, compact
from forgekit.trajectory.diff import TrajectoryDiff, diff
from forgekit.trajectory.export import export_frame, export_run
from forgekit.trajectory.queries import (
    TrajectoryTables,
    batch_stats,
    cost_by_model,
    failure_reasons,
    latency_percentiles,
    score_means,
    steps_per_run,
)
from forgekit.trajectory.reader import Step, Trajectory
from forgekit.trajectory.recorder import Recorder
from forgekit.trajectory.replay import ReplaySource
from forgekit.trajectory.store import TrajectoryStore

__all__ = [
    "CompactionReport",
    "Recorder",
    "ReplaySource",
    "Step",
    "Trajectory",
    "TrajectoryDiff",
    "TrajectoryStore",
    "TrajectoryTables",
    "batch_stats",
    "compact",
    "cost_by_model",
    "diff",
    "export_frame",
    "export_run",
    "failure_reasons",
    "latency_percentiles",
    "score_means",
    "steps_per_run",
]

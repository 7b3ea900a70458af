"""forgekit.notebook: live widgets (anywidget: JupyterLab, VS Code, marimo) with static HTML
fallbacks (papermill, nbval, GitHub), and background runs that stream into them.

    from forgekit.notebook import (EvalViewer, TrajectoryInspector, RunDashboard,
                                   IndexExplorer, ApprovalPrompt, run_in_background)

Importing this package is light: anywidget is loaded when a widget is first displayed.
"""

from forgekit.notebook.approval import ApprovalPrompt
from forgekit.notebook.background import BackgroundRun, run_in_background
from forgekit.notebook.dashboard import RunDashboard
from forgekit.notebook.explorer import IndexExplorer
from forgekit.notebook.inspector import TrajectoryInspector, trajectory_state
from forgekit.notebook.live import LiveView
from forgekit.notebook.live_eval import EvalRun, evaluate_live
from forgekit.notebook.viewer import EvalViewer
from forgekit.notebook.views import register_view

__all__ = [
    "ApprovalPrompt",
    "BackgroundRun",
    "EvalRun",
    "EvalViewer",
    "IndexExplorer",
    "LiveView",
    "RunDashboard",
    "TrajectoryInspector",
    "evaluate_live",
    "register_view",
    "run_in_background",
    "trajectory_state",
]

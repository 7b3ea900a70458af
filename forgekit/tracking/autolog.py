"""Track a finished evaluation the way `forgekit eval` does: write its HTML report, log
it to MLflow (parent run, a child run per cell, traces, the report as an artifact), and
write the report again naming the MLflow run. `fk.evaluate` and the CLI both use it."""

from __future__ import annotations

import importlib.util
from typing import Any

from forgekit.core.config import ProjectConfig


def tracking_available() -> bool:
    """Whether MLflow is installed (the `tracking` extra)."""
    return importlib.util.find_spec("mlflow") is not None


def track_evaluation(results: Any, project_config: ProjectConfig | None = None) -> dict[str, Any]:
    """Report and log `results` (an `EvalResults`); fills and returns `results.tracking`.

    Never raises: tracking must not fail an evaluation. Without MLflow, or when logging
    failed, the returned dict has an ``error`` saying why (the report is still written).
    """
    from forgekit.tracking.eval_tracker import log_results

    try:
        results.report()  # before logging, so MLflow gets the report on the first run
    except Exception as e:  # a report that cannot be written must not stop the logging
        results.tracking = {"error": f"report not written: {type(e).__name__}: {e}"}
    if not tracking_available():
        results.tracking = {"error": "MLflow is not installed: pip install 'forgekit[tracking]'"}
        return results.tracking
    info = log_results(results, project_config)
    results.tracking = info
    if info.get("mlflow_run_id"):
        try:
            results.report()  # again, now naming the MLflow run
        except Exception:  # the first report stands
            pass
    return info

"""`fk.evaluate`: the evaluation of `forgekit.evals`, tracked like `forgekit eval`.

The evals layer runs and scores; it may not import the tracking layer above it. What
users call as ``fk.evaluate`` composes the two: it runs `forgekit.evals.evaluate` and
then — when the project's tracking is enabled (``tracking.enabled`` in forgekit.yaml, on
by default) and MLflow is installed — writes the report and logs the evaluation to
MLflow, so a notebook's evaluation shows in MLflow, `forgekit ui` and the workbench like
one run from the command line.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def _config(gateway: Any) -> Any:
    config = getattr(gateway, "config", None)
    if config is not None:
        return config
    from forgekit.core.config import load_config

    return load_config()


def _track(results: Any, track: bool | None, gateway: Any) -> None:
    if track is False:
        return
    from forgekit.tracking.autolog import track_evaluation, tracking_available

    try:
        config = _config(gateway)
    except Exception as e:  # a broken forgekit.yaml was already reported by the run
        log.warning("evaluation not tracked: %s", e)
        return
    if track is None and (not config.tracking.enabled or not tracking_available()):
        return
    track_evaluation(results, config)
    error = results.tracking.get("error")
    if error:
        log.warning("evaluation not logged to MLflow: %s", error)


def evaluate(solvers: Any, tasks: Any = None, *, track: bool | None = None,
             **kwargs: Any) -> Any:
    """`forgekit.evals.evaluate` (same arguments), then tracked: the HTML report is
    written and the evaluation is logged to MLflow (`results.tracking` holds the run ids).

    Args:
        track: True logs (an error in `results.tracking` if MLflow is missing); False
            never does; None (default) logs when ``tracking.enabled`` and MLflow is
            installed.

    Example:
        >>> res = fk.evaluate(lambda s: "42", [{"input": "6*7?", "target": "42"}])  # doctest: +SKIP
        >>> res.tracking["mlflow_run_id"]                                            # doctest: +SKIP
    """
    from forgekit.evals import evaluate as run

    results = run(solvers, tasks, **kwargs)
    _track(results, track, kwargs.get("gateway") or _gateway_arg(tasks))
    return results


async def aevaluate(solvers: Any, tasks: Any = None, *, track: bool | None = None,
                    **kwargs: Any) -> Any:
    """Async form of `evaluate` (same arguments)."""
    import asyncio

    from forgekit.evals import aevaluate as run

    results = await run(solvers, tasks, **kwargs)
    # MLflow's client is blocking: keep the event loop free while it logs
    await asyncio.to_thread(_track, results, track, kwargs.get("gateway") or _gateway_arg(tasks))
    return results


def _gateway_arg(tasks: Any) -> Any:
    """The older ``evaluate(suite, gateway)`` form passes the gateway second."""
    return tasks if hasattr(tasks, "acomplete") and hasattr(tasks, "config") else None

"""A running evaluation in a notebook: live progress, accuracy and cost per model x
solver while it runs (the kernel stays free), then the comparison; `.results` is the
`EvalResults`, which renders as the eval viewer.

Example:
    >>> run = evaluate_live("evals/main.yaml", gateway, limit=20)   # doctest: +SKIP
    >>> run            # the dashboard fills in as samples finish   # doctest: +SKIP
    >>> run.results    # when done: the eval viewer                 # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from forgekit.notebook.background import BackgroundRun, run_in_background
from forgekit.notebook.dashboard import RunDashboard

if TYPE_CHECKING:
    from forgekit.models import Gateway


class EvalRun(RunDashboard):
    """The dashboard of an evaluation running in the background (see `evaluate_live`)."""

    def __init__(self, title: str, total: int, out_dir: Path) -> None:
        super().__init__(title, total=total)
        self.out_dir = out_dir
        self.job: BackgroundRun | None = None

    @property
    def results(self) -> Any:
        """The `EvalResults` once the evaluation is over (waits for it)."""
        if self.job is None:
            raise RuntimeError("the evaluation was not started")
        return self.job.result()

    def wait(self, timeout: float | None = None) -> Any:
        """Wait for the end; return the `EvalResults`."""
        if self.job is None:
            raise RuntimeError("the evaluation was not started")
        value = self.job.result(timeout)
        self.stop_following()
        return value


def evaluate_live(suite: Any, gateway: Gateway | None = None, **kwargs: Any) -> EvalRun:
    """Start an evaluation in a background thread and return its live dashboard at once.

    Args:
        suite: a `Suite` or a suite YAML path.
        gateway: the model gateway (default: one from the project config).
        **kwargs: what `forgekit.evals.evaluate` takes (`out_dir`, `models`, `limit`,
            `retry_errors`); its text progress bar is replaced by the dashboard.
    """
    from forgekit.evals import Suite, load_suite
    from forgekit.evals.runner import Runner

    spec = suite if isinstance(suite, Suite) else load_suite(suite)
    if gateway is None:
        from forgekit.models import Gateway

        gateway = Gateway()
    kwargs["progress"] = False
    runner = Runner(spec, gateway, **kwargs)
    run = EvalRun(spec.name, total=sum(1 for _ in runner.grid()), out_dir=runner.out_dir)
    run.follow(runner.out_dir, from_start=True)  # a resumed run counts what is done
    run.job = run_in_background(runner.run(), name=f"eval {spec.name}")
    run.watch(run.job)
    return run

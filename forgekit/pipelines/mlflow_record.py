"""Record a pipeline run in MLflow through `forgekit.tracking` (mlflow imported lazily)."""

from __future__ import annotations

from pathlib import Path

from forgekit.pipelines.job import JobSpec
from forgekit.pipelines.run_log import PipelineRun


def tracking_target(job: JobSpec) -> tuple[str, str] | None:
    """(tracking uri, experiment) for this job, or None when tracking is off.

    On when `job.track` is true, or when it is unset and a `forgekit.yaml` above the job
    has `tracking.enabled` (the default). The URI is resolved as everywhere in forgekit:
    `MLFLOW_TRACKING_URI`, then `tracking.uri`, then `<project>/.forgekit/mlflow.db`.
    """
    from forgekit.core.config import find_config_file, load_config

    if job.track is False:
        return None
    cfg_file = find_config_file(job.base_dir)
    if cfg_file is None and not job.track:
        return None
    cfg = load_config(cfg_file) if cfg_file is not None else None
    if cfg is not None and not cfg.tracking.enabled and not job.track:
        return None
    if cfg is None:
        from forgekit.core.config import ProjectConfig

        cfg = ProjectConfig(root=job.base_dir)
    from forgekit.tracking import resolve_tracking_uri

    return resolve_tracking_uri(cfg), cfg.tracking.experiment


def track_run(job: JobSpec, run: PipelineRun) -> str | None:
    """Log params, status, duration and the executed notebook as one MLflow run.

    Returns:
        A link to the run (`<tracking uri>#/experiments/<id>/runs/<run id>`), or None when
        tracking is off.
    """
    target = tracking_target(job)
    if target is None:
        return None
    uri, experiment = target
    from forgekit.tracking.session import ensure_experiment, mlflow_session

    with mlflow_session(uri) as client:
        exp_id = ensure_experiment(client, uri, experiment)
        mrun = client.create_run(
            exp_id,
            run_name=f"pipeline:{job.name}:{run.run_id}",
            tags={
                "forgekit.kind": "pipeline",
                "forgekit.job": job.name,
                "forgekit.pipeline_run_id": run.run_id,
                "forgekit.trigger": run.trigger,
                "forgekit.status": run.status,
            },
        )
        rid = mrun.info.run_id
        for key, value in run.parameters.items():
            client.log_param(rid, key, str(value)[:500])
        client.log_metric(rid, "duration_s", run.duration_s)
        client.log_metric(rid, "attempt", run.attempt)
        if run.output_notebook and Path(run.output_notebook).exists():
            client.log_artifact(rid, run.output_notebook)
        client.set_terminated(rid, status="FINISHED" if run.ok else "FAILED")
    return f"{uri}#/experiments/{exp_id}/runs/{rid}"

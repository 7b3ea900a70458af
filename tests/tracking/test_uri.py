from pathlib import Path

from forgekit.core.config import load_config
from forgekit.tracking.uri import artifact_root, resolve_tracking_uri, sqlite_path


def test_default_is_sqlite_in_the_project(project: Path):
    uri = resolve_tracking_uri(load_config(env={}), env={})
    assert uri == f"sqlite:///{project.resolve()}/.forgekit/mlflow.db"
    assert artifact_root(uri) == (project.resolve() / ".forgekit" / "mlartifacts").as_uri()


def test_config_overrides_default_and_relative_sqlite_is_project_relative(project: Path):
    (project / "forgekit.yaml").write_text("tracking:\n  uri: sqlite:///data/runs.db\n")
    cfg = load_config(project / "forgekit.yaml", env={})
    uri = resolve_tracking_uri(cfg, env={})
    assert sqlite_path(uri) == project.resolve() / "data" / "runs.db"
    (project / "forgekit.yaml").write_text("tracking:\n  uri: http://mlflow.team:5000\n")
    cfg = load_config(project / "forgekit.yaml", env={})
    assert resolve_tracking_uri(cfg, env={}) == "http://mlflow.team:5000"
    assert artifact_root("http://mlflow.team:5000") is None


def test_environment_wins(project: Path):
    (project / "forgekit.yaml").write_text("tracking:\n  uri: sqlite:///x.db\n")
    cfg = load_config(project / "forgekit.yaml", env={})
    env = {"MLFLOW_TRACKING_URI": "http://127.0.0.1:5005"}
    assert resolve_tracking_uri(cfg, env=env) == "http://127.0.0.1:5005"

"""`forgekit ui`: a real `mlflow server` on loopback over the configured store.

    ui = start_ui()          # waits for /health
    print(ui.url)            # http://127.0.0.1:<port>
    ui.stop()                # SIGTERM to its process group, SIGKILL after a grace period

Also a context manager. The server binds 127.0.0.1 only, runs one worker, and keeps the
artifacts of a SQLite store beside it (``mlartifacts/``), where forgekit writes them too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forgekit.core.processes import HOST, ManagedServer, ProcessDied, ProcessNotReady, free_port
from forgekit.tracking.uri import ARTIFACTS_DIR, is_remote, sqlite_path

if TYPE_CHECKING:
    from forgekit.core.config import ProjectConfig

STARTUP_TIMEOUT_S = 180.0


class MlflowUI:
    """A running `mlflow server` process (see `start_ui`), a
    `forgekit.core.processes.ManagedServer`."""

    def __init__(self, server: ManagedServer, url: str, uri: str) -> None:
        self.server = server
        self.url = url
        self.uri = uri  # the backend store it serves

    @property
    def process(self) -> subprocess.Popen:
        assert self.server.process is not None
        return self.server.process

    @property
    def log_path(self) -> Path:
        assert self.server.log_path is not None
        return self.server.log_path

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.server.running

    def wait_healthy(self, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
        """Poll /health until it answers 200.

        Raises:
            RuntimeError: the server exited or did not become healthy in time (with the
                tail of its log).
        """
        try:
            self.server.wait_healthy(timeout_s, poll_s=0.2, log_lines=20)
        except ProcessDied as e:
            raise RuntimeError(f"mlflow server {e.reason}:\n{e.log_tail}") from None
        except ProcessNotReady as e:  # the toolkit stopped it
            raise RuntimeError(
                f"mlflow server not healthy after {timeout_s:.0f} s:\n{e.log_tail}"
            ) from None

    def log_tail(self, lines: int = 20) -> str:
        return self.server.log_tail(lines)

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop the server and its workers: SIGTERM to the whole process group, SIGKILL to
        whatever is left after `grace_s`. Returns when no process of the group is left."""
        self.server.stop(grace_s)

    def __enter__(self) -> MlflowUI:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _repr_html_(self) -> str:
        import html

        state = "running" if self.running() else "stopped"
        url = html.escape(self.url)
        return (
            f'<p>MLflow UI ({state}): <a href="{url}" target="_blank">{url}</a> '
            f"over <code>{html.escape(self.uri)}</code></p>"
        )

    def __repr__(self) -> str:
        state = "running" if self.running() else "stopped"
        return f"MlflowUI({self.url}, store={self.uri}, {state})"


def server_command(uri: str, port: int, host: str = HOST) -> list[str]:
    """The `mlflow server` command line for a backend store URI."""
    if is_remote(uri):
        raise ValueError(f"{uri} is already a tracking server: open it in a browser")
    cmd = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        uri,
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    db = sqlite_path(uri)
    if db is not None:
        # the same file:// artifact root forgekit gives experiments it creates in the
        # store directly, so runs logged over HTTP and runs logged to the SQLite file
        # keep their artifacts in one place, readable both ways (loopback: same machine)
        root = (db.resolve().parent / ARTIFACTS_DIR).as_uri()
        cmd += ["--default-artifact-root", root, "--no-serve-artifacts"]
    return cmd


def start_ui(
    config: ProjectConfig | None = None,
    *,
    uri: str | None = None,
    port: int | None = None,
    host: str = HOST,
    wait: bool = True,
    timeout_s: float = STARTUP_TIMEOUT_S,
) -> MlflowUI:
    """Start `mlflow server` over the configured store; return when /health answers.

    Args:
        config: the project config (default: `load_config()`).
        uri: the backend store (default: the resolved tracking URI).
        port: the port (default: a free one).
        host: the interface; loopback unless you mean to share it.
        wait: wait for /health before returning.
        timeout_s: how long to wait.

    Raises:
        RuntimeError: the server did not start (its log is in the message).
        ValueError: the tracking URI is already a server.
    """
    from forgekit.tracking.uri import quiet_mlflow_env, resolve_tracking_uri

    quiet_mlflow_env()
    uri = uri or resolve_tracking_uri(config)
    db = sqlite_path(uri)
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
        log_dir = db.resolve().parent
        from forgekit.tracking.schema import ensure_store

        ensure_store(uri)  # the server finds the tables ready: no second migration
    else:
        log_dir = Path.cwd()
    port = port or free_port(host)
    log_path = log_dir / f"mlflow-server-{port}.log"
    log_path.unlink(missing_ok=True)  # a fresh log per start (a port may come again)
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    url = f"http://{host}:{port}"
    server = ManagedServer(
        server_command(uri, port, host),
        health_url=f"{url}/health",
        log_path=log_path,
        env=env,
        name="mlflow server",
    ).start()
    ui = MlflowUI(server, url, uri)
    if wait:
        try:
            from forgekit.core.progress import Progress

            with Progress("starting the MLflow UI…", unit="s", delay_s=1.0).tick():
                ui.wait_healthy(timeout_s)
        except BaseException:  # Ctrl-C while starting: leave no server behind
            ui.stop()
            raise
    return ui

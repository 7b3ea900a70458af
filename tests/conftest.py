"""Shared fixtures. Every test runs with HOME and tool caches in a temp dir, offline,
with telemetry off; servers are started here and stopped by process id."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="forgekit-test-home-"))
for var, sub in [("HOME", ""), ("XDG_CACHE_HOME", ".cache"), ("XDG_CONFIG_HOME", ".config"),
                 ("XDG_DATA_HOME", ".local/share"), ("MPLCONFIGDIR", ".mpl"),
                 ("IPYTHONDIR", ".ipython"), ("JUPYTER_CONFIG_DIR", ".jupyter")]:
    os.environ[var] = str(_HOME / sub) if sub else str(_HOME)
os.environ.update({
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
})
os.environ.pop("FORGEKIT_HOME", None)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Print the llama.cpp build the local-model tests run on, even under -q (a build for
    CPU features this machine does not allow is the usual reason they all fail at once)."""
    try:
        import llama_cpp

        info = llama_cpp.llama_print_system_info().decode().strip()
    except Exception as e:  # the header must never stop the run
        info = f"not loadable ({type(e).__name__}: {e})"
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"llama.cpp: {info}")


def pytest_unconfigure(config: pytest.Config) -> None:
    """The temporary HOME goes with the session (pytest's tmp_path cleans itself)."""
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project directory, made the cwd."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FORGEKIT_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="session")
def local_gateway():
    """A Gateway on the default config: alias `local` is the embedded SmolLM2 server,
    started on first use and stopped at the end of the session."""
    from forgekit.core.config import load_config
    from forgekit.models import Gateway

    root = Path(tempfile.mkdtemp(prefix="forgekit-local-"))
    cfg = load_config(env={"FORGEKIT_HOME": str(root)})
    cfg.cache.enabled = False
    gw = Gateway(cfg)
    yield gw
    gw.close()
    shutil.rmtree(root, ignore_errors=True)

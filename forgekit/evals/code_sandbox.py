"""Run untrusted Python (a code answer and its tests) in the OS sandbox shared with the
agent tools (forgekit.core.sandbox): a temporary directory as the only writable folder, no
network, CPU/memory/file/process limits, a minimal environment, and every process it made
killed when it hangs."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from forgekit.core.sandbox import Sandbox, SandboxConfig

# without the OS sandbox (`sandbox: none`) this at least blocks sockets inside the child
_NO_NET = """
import socket as _s
def _blocked(*a, **k):
    raise OSError("network access is disabled in the forgekit sandbox")
_s.socket = _blocked
_s.create_connection = _blocked
del _s
"""


@dataclass
class ExecResult:
    """What one sandboxed run did."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    duration_s: float
    isolated_network: bool

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def run_python(
    code: str,
    *,
    timeout_s: float = 10.0,
    memory_mb: int = 512,
    network: bool = False,
    files: dict[str, str] | None = None,
    sandbox: SandboxConfig | str | None = None,
) -> ExecResult:
    """Run `code` with a fresh interpreter (`-I -B`) in a temporary directory, in the OS
    sandbox, and return its result. Raises `SandboxUnavailable` when bwrap cannot run here
    (unless `sandbox="none"`)."""
    config = SandboxConfig.model_validate(sandbox or {})
    config = config.model_copy(update={"memory_mb": memory_mb, "file_size_mb": 16})
    with tempfile.TemporaryDirectory(prefix="forgekit-sandbox-") as tmp:
        tmpdir = Path(tmp)
        for name, content in (files or {}).items():
            target = (tmpdir / name).resolve()
            if tmpdir.resolve() not in target.parents:
                raise ValueError(f"sandbox file {name!r} escapes the sandbox directory")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        box = Sandbox(tmpdir, config=config, network=network)
        script = tmpdir / "main.py"
        script.write_text(("" if network or box.sandboxed else _NO_NET) + code, encoding="utf-8")
        box.extra_env.update(PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
        r = box.run_sync(
            [sys.executable, "-I", "-B", str(script)],
            timeout_s=timeout_s,
            merge_stderr=False,
            max_output=8000,
        )
        return ExecResult(
            returncode=r.returncode,
            stdout=r.output[-4000:],
            stderr=r.stderr[-4000:],
            timed_out=r.timed_out,
            duration_s=r.duration_s,
            isolated_network=not network and box.sandboxed,
        )

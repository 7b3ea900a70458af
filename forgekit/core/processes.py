"""Child processes forgekit starts and owns: one toolkit for every server and subprocess.

- `free_port()`: a free TCP port on loopback.
- `ManagedProcess`: a command in its own process group (session) with its output in a log
  file; `wait` with a timeout or an interrupt, `stop` (SIGTERM, then SIGKILL to the whole
  group after a grace period; returns when no process of the group is left), `death()`
  (how it ended, in words) and `log_tail()` (redacted).
- `ManagedServer`: a `ManagedProcess` with a health URL; `wait_healthy` polls it and names
  the child's death (`ProcessDied`) or the timeout (`ProcessNotReady`) with its log's tail.
- `run_bounded`: run a command to completion under a timeout and an output cap (head and
  tail kept), killing its whole process group on timeout or cancellation.
- `scrub_env()`: the environment without any variable whose name says it holds a secret
  (`forgekit.core.redact.is_secret_name`, the one rule).

The local model server, the MLflow UI, the pipelines' notebook runs and the OS sandbox
(`forgekit.core.sandbox`, which builds its own minimal environment) are built on it.

    >>> with ManagedServer([sys.executable, "-m", "http.server", str(port)],       # doctest: +SKIP
    ...                    health_url=f"http://127.0.0.1:{port}/", log_path=log) as srv:
    ...     srv.wait_healthy(10)
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from forgekit.core.errors import ForgekitError
from forgekit.core.redact import is_secret_name, redact_text

HOST = "127.0.0.1"


class ProcessDied(ForgekitError):
    """A managed process exited while it was expected to run (starting, or serving)."""

    def __init__(self, message: str, *, returncode: int, reason: str, log_tail: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.reason = reason  # `exit_reason(returncode)`
        self.log_tail = log_tail


class ProcessNotReady(ForgekitError):
    """A managed server did not answer its health check in time (it has been stopped)."""

    def __init__(self, message: str, *, timeout_s: float, log_tail: str) -> None:
        super().__init__(message)
        self.timeout_s = timeout_s
        self.log_tail = log_tail


def free_port(host: str = HOST) -> int:
    """A TCP port free on `host` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def exit_reason(code: int, *, sigill_hint: str = "") -> str:
    """How a process ended, in words; `sigill_hint` says what to do after an illegal
    instruction (a binary compiled for CPU features the machine does not allow)."""
    if code == -signal.SIGILL:
        hint = f": {sigill_hint}" if sigill_hint else ""
        return f"died of an illegal instruction (SIGILL){hint}"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def scrub_env(env: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """`env` (default: this process's environment) without the variables whose names say
    they hold a secret, plus `extra` (which is not scrubbed: the caller chose it)."""
    source = os.environ if env is None else env
    out = {k: v for k, v in source.items() if not is_secret_name(k)}
    out.update(extra)
    return out


def log_tail(path: str | Path | None, lines: int = 30, *, missing: str = "") -> str:
    """The last `lines` lines of a log file, redacted of secrets (`missing` if unreadable)."""
    if path is None:
        return missing
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return missing
    return redact_text("\n".join(text[-lines:]))


# -- process groups -------------------------------------------------------------------------
def signal_group(pid: int, sig: int) -> bool:
    """Send `sig` to the process group `pid` leads; False when the group is gone."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:  # the id was reused by someone else's group
        return False
    return True


def group_alive(pid: int) -> bool:
    """Whether any process of the group `pid` leads is left (a zombie leader counts)."""
    return signal_group(pid, 0)


def stop_group(
    proc: subprocess.Popen, grace_s: float = 5.0, *, term_leader_only: bool = False
) -> None:
    """Stop a child started in its own session and everything it started: SIGTERM (to the
    group, or only to the leader when it shuts its own children down), then SIGKILL to
    the group after `grace_s`. Returns when the leader has exited and no process of the
    group is left (or 5 s after the SIGKILL)."""
    pid = proc.pid
    if proc.poll() is None or group_alive(pid):
        if term_leader_only:
            try:
                proc.send_signal(signal.SIGTERM)
            except OSError:
                pass
        elif not signal_group(pid, signal.SIGTERM) and proc.poll() is None:
            proc.terminate()  # not a group leader after all
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if proc.poll() is not None and not group_alive(pid):
            return
        time.sleep(0.05)
    signal_group(pid, signal.SIGKILL)
    if proc.poll() is None:
        try:
            proc.kill()
        except OSError:
            pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:  # pragma: no cover - unkillable (D state)
        return
    deadline = time.monotonic() + 5
    while group_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


class ManagedProcess:
    """A command started in its own process group, its stdout and stderr in `log_path`.

    Args:
        argv: the command.
        log_path: where its output goes (appended; parents created); None discards it.
        env: its whole environment (default: `scrub_env()`, this one without secrets).
        cwd: its working directory.
        name: how messages call it ("the local model server").
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        log_path: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        name: str = "process",
    ) -> None:
        if not argv:
            raise ValueError("empty command")
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path) if log_path is not None else None
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.name = name
        self.process: subprocess.Popen | None = None

    def start(self) -> Self:
        """Start it (once); returns self."""
        if self.process is not None:
            raise RuntimeError(f"{self.name} was already started")
        env = self.env if self.env is not None else scrub_env()
        kw: dict[str, Any] = dict(
            stdin=subprocess.DEVNULL, env=env, cwd=self.cwd, start_new_session=True, close_fds=True
        )
        if self.log_path is None:
            quiet = subprocess.DEVNULL
            self.process = subprocess.Popen(self.argv, stdout=quiet, stderr=quiet, **kw)
            return self
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, **kw)
        return self

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        """Its exit status once it ended (negative: the signal that killed it)."""
        return self.process.poll() if self.process is not None else None

    def wait(
        self,
        timeout_s: float | None = None,
        *,
        interrupt: threading.Event | None = None,
        poll_s: float = 0.2,
    ) -> int | None:
        """Wait for it to end; its exit status, or None when `timeout_s` passed or
        `interrupt` was set first (it is still running then: `stop` it)."""
        if self.process is None:
            raise RuntimeError(f"{self.name} was not started")
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            step = poll_s if deadline is None else min(poll_s, max(deadline - time.monotonic(), 0))
            try:
                return self.process.wait(timeout=step)
            except subprocess.TimeoutExpired:
                pass
            if interrupt is not None and interrupt.is_set():
                return None
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def stop(self, grace_s: float = 5.0, *, term_leader_only: bool = False) -> None:
        """SIGTERM, then SIGKILL to its whole group after `grace_s` (see `stop_group`)."""
        if self.process is not None:
            stop_group(self.process, grace_s, term_leader_only=term_leader_only)

    def exit_reason(self, *, sigill_hint: str = "") -> str | None:
        """How it ended, in words (None while it runs or before it started)."""
        code = self.returncode
        return None if code is None else exit_reason(code, sigill_hint=sigill_hint)

    def death(self, *, lines: int = 12, sigill_hint: str = "") -> str | None:
        """How it died and its log's tail (None while it runs or before it started)."""
        reason = self.exit_reason(sigill_hint=sigill_hint)
        if reason is None:
            return None
        return f"{self.name} {reason}; log {self.log_path}:\n{self.log_tail(lines)}"

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of its log, redacted ("(no log)" when there is none)."""
        return log_tail(self.log_path, lines, missing="(no log)")

    def __enter__(self) -> Self:
        if self.process is None:
            self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_ok(url: str, timeout_s: float = 2.0) -> bool:
    """Whether `GET url` answers 200 (never through a proxy: this is for loopback)."""
    try:
        with _NO_PROXY.open(url, timeout=timeout_s) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError, TimeoutError, ValueError):
        return False


class ManagedServer(ManagedProcess):
    """A `ManagedProcess` that serves: `wait_healthy` polls `health_url` until it answers 200.

    Args:
        argv, log_path, env, cwd, name: as for `ManagedProcess`.
        health_url: the URL that answers 200 once it serves.
        url: where it serves, for its users (default: `health_url`).
        sigill_hint: what to do when it dies of an illegal instruction (in `death()`).
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        health_url: str,
        log_path: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        name: str = "server",
        url: str | None = None,
        sigill_hint: str = "",
    ) -> None:
        super().__init__(argv, log_path=log_path, env=env, cwd=cwd, name=name)
        self.health_url = health_url
        self.url = url or health_url
        self.sigill_hint = sigill_hint

    def healthy(self, timeout_s: float = 2.0) -> bool:
        """One health check."""
        return http_ok(self.health_url, timeout_s)

    def wait_healthy(
        self,
        timeout_s: float,
        *,
        poll_s: float = 0.1,
        check: Callable[[], bool] | None = None,
        log_lines: int = 30,
    ) -> None:
        """Poll until healthy (`check`, default `healthy`).

        Raises:
            ProcessDied: it exited first (how, and its log's tail).
            ProcessNotReady: not healthy within `timeout_s`; it has been stopped.
        """
        if self.process is None:
            raise RuntimeError(f"{self.name} was not started")
        check = check or self.healthy
        deadline = time.monotonic() + timeout_s
        while True:
            self.raise_if_dead(log_lines)
            if check():
                return
            if time.monotonic() > deadline:
                self.stop()
                tail = self.log_tail(log_lines)
                raise ProcessNotReady(
                    f"{self.name} did not become healthy within {timeout_s:g}s; "
                    f"log {self.log_path}:\n{tail}",
                    timeout_s=timeout_s,
                    log_tail=tail,
                )
            time.sleep(poll_s)

    def raise_if_dead(self, log_lines: int = 30) -> None:
        """Raise `ProcessDied` (how, with its log's tail) when it has exited."""
        code = self.returncode
        if code is None:
            return
        reason = exit_reason(code, sigill_hint=self.sigill_hint)
        tail = self.log_tail(log_lines)
        raise ProcessDied(
            f"{self.name} {reason}; log {self.log_path}:\n{tail}",
            returncode=code,
            reason=reason,
            log_tail=tail,
        )

    def death(self, *, lines: int = 12, sigill_hint: str = "") -> str | None:  # noqa: D102
        return super().death(lines=lines, sigill_hint=sigill_hint or self.sigill_hint)

    def __enter__(self) -> Self:
        super().__enter__()
        return self


# -- bounded runs ---------------------------------------------------------------------------
@dataclass
class BoundedResult:
    """What one bounded run did."""

    returncode: int | None
    output: str  # stdout (and stderr when merged), clipped head and tail
    stderr: str = ""  # when not merged
    timed_out: bool = False
    duration_s: float = 0.0
    truncated: int = 0  # bytes dropped from the middle of the output


async def run_bounded(
    argv: Sequence[str],
    *,
    timeout_s: float = 30.0,
    max_output: int = 100_000,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    stdin: bytes | None = None,
    merge_stderr: bool = True,
) -> BoundedResult:
    """Run `argv` in its own process group to completion, or until `timeout_s`, which
    (like a cancellation) kills the whole group. At most `max_output` bytes of each stream
    are kept (head and tail). `env` is the whole environment (default: `scrub_env()`)."""
    if not argv:
        raise ValueError("empty command")
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=dict(env) if env is not None else scrub_env(),
        start_new_session=True,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT if merge_stderr else asyncio.subprocess.PIPE,
    )
    timed_out = False
    readers = [asyncio.ensure_future(_drain(proc.stdout, max_output))]
    if not merge_stderr:
        readers.append(asyncio.ensure_future(_drain(proc.stderr, max_output)))
    try:
        if stdin is not None:
            asyncio.ensure_future(_feed(proc.stdin, stdin))
        await asyncio.wait_for(proc.wait(), timeout_s)
    except TimeoutError:
        timed_out = True
        signal_group(proc.pid, signal.SIGKILL)
        await proc.wait()
    except asyncio.CancelledError:  # the caller's deadline passed or the run stopped
        signal_group(proc.pid, signal.SIGKILL)
        await proc.wait()
        for r in readers:
            r.cancel()
        raise
    try:  # the pipes close when the last process holding them is gone
        outs = await asyncio.wait_for(asyncio.gather(*readers), 5)
    except TimeoutError:  # a detached child (its own session) holds a pipe
        for r in readers:
            r.cancel()
        outs = [("", 0)] * len(readers)
    return BoundedResult(
        returncode=proc.returncode,
        output=outs[0][0],
        stderr=outs[1][0] if len(outs) > 1 else "",
        timed_out=timed_out,
        duration_s=time.perf_counter() - t0,
        truncated=sum(o[1] for o in outs),
    )


async def _feed(writer: asyncio.StreamWriter | None, data: bytes) -> None:
    if writer is None:
        return
    try:
        writer.write(data)
        await writer.drain()
        writer.close()
    except (BrokenPipeError, ConnectionResetError):
        pass


async def _drain(reader: asyncio.StreamReader | None, limit: int) -> tuple[str, int]:
    """Read a stream to its end keeping at most `limit` bytes (head and tail)."""
    if reader is None:
        return "", 0
    head, tail, total, half = bytearray(), bytearray(), 0, max(limit // 2, 1)
    while chunk := await reader.read(65536):
        total += len(chunk)
        if len(head) < half:
            take = half - len(head)
            head += chunk[:take]
            chunk = chunk[take:]
        tail += chunk
        if len(tail) > 2 * half:
            del tail[: len(tail) - half]
    if total <= 2 * half:
        return (bytes(head) + bytes(tail)).decode("utf-8", "replace"), 0
    tail = tail[-half:]
    dropped = total - len(head) - len(tail)
    text = (
        f"{bytes(head).decode('utf-8', 'replace')}\n... [{dropped} bytes elided] ...\n"
        f"{bytes(tail).decode('utf-8', 'replace')}"
    )
    return text, dropped

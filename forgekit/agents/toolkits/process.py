"""Running a tool's subprocess in the OS sandbox (forgekit.core.sandbox): the workspace is
the only writable folder, no network unless granted, limits, the whole process tree killed
on timeout, output clipped to head and tail and redacted of every known secret value."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from forgekit.core.config import project_sandbox_config
from forgekit.core.redact import redact_text
from forgekit.core.sandbox import Sandbox, SandboxConfig


def clip(text: str, limit: int) -> str:
    """Keep the head and the tail of a long output, saying how much was dropped."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - limit} characters elided] ...\n{text[-half:]}"


def tool_sandbox(env: Any, *, read_only: Sequence[str | Path] = (), **overrides: Any) -> Sandbox:
    """The sandbox a tool call runs in: the run's `sandbox:` config (ToolEnv.sandbox), the
    bundle's options (`memory_mb`, ...) and the policy's network grant (options `network`)."""
    base = getattr(env, "sandbox", None) or project_sandbox_config()
    if not isinstance(base, SandboxConfig):
        base = SandboxConfig.model_validate(base)
    options = getattr(env, "options", {}) or {}
    limits = {k: options[k] for k in ("memory_mb", "max_processes", "file_size_mb") if k in options}
    limits.update(overrides)
    config = base.model_copy(update=limits) if limits else base
    network = bool(options.get("network")) or config.network
    return Sandbox(env.workspace, config=config, network=network, read_only=read_only)


async def run_process(
    argv: list[str],
    *,
    env: Any,
    timeout_s: float,
    max_output: int,
    stdin: bytes | None = None,
    read_only: Sequence[str | Path] = (),
    **limits: Any,
) -> str:
    """Run `argv` sandboxed; return 'exit code N' plus the clipped, redacted output."""
    sandbox = tool_sandbox(env, read_only=read_only, **limits)
    r = await sandbox.run(argv, timeout_s=timeout_s, stdin=stdin, max_output=max_output * 4)
    if r.timed_out:
        return f"timed out after {timeout_s:g}s (process killed)"
    text = redact_text(clip(r.output, max_output))
    return f"exit code {r.returncode}\n{text}" if text else f"exit code {r.returncode}"

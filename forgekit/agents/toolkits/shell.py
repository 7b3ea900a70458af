"""The `shell` bundle: run a command with bash in the workspace, in the OS sandbox
(policy-gated)."""

from __future__ import annotations

from forgekit.agents.safety import assess_command
from forgekit.agents.toolkits.process import run_process
from forgekit.agents.tools import ToolEnv, ToolError


async def run_command(command: str, timeout_s: float | None = None, *, env: ToolEnv) -> str:
    """Run a shell command in the workspace; returns the exit code and output."""
    if env.policy is None:  # called outside an agent: still refuse the worst
        risk = assess_command(command, str(env.workspace))
        if risk.level == "high":
            raise ToolError(f"refused: {risk.reason}")
    limit = float(env.options.get("timeout_s", 30))
    timeout = min(timeout_s or limit, limit)
    return await run_process(
        ["bash", "-c", command],
        env=env,
        timeout_s=timeout,
        max_output=int(env.options.get("max_output", 8000)),
    )

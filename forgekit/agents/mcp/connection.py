"""One MCP server connection, owned by one long-lived task.

The SDK's transports and `ClientSession` are anyio task groups: they must be entered and
exited by the same task (python-sdk #577, "exit cancel scope in a different task"). So a
connection is a single task, `run()`, that enters the transport and the session, serves
until the connection is lost or closed, exits them itself, and reconnects with a doubling
backoff. Tool calls are separate tasks on the same event loop that use the live session;
while it is down they fail at once with an error that says so (never a crash, never a
hang).
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Literal

from forgekit.agents.mcp.servers import MCPServerConfig
from forgekit.agents.tools import ToolError

log = logging.getLogger("forgekit.mcp")
State = Literal["idle", "connecting", "ready", "down", "closed"]


class _Lost(Exception):
    """The connection is gone; the owner task reconnects."""


def _describe(e: BaseException) -> str:
    """A short message for an error, looking inside anyio's exception groups."""
    while isinstance(e, BaseExceptionGroup) and e.exceptions:
        e = e.exceptions[0]
    text = str(e) or type(e).__name__
    return text if isinstance(e, (_Lost, ToolError)) else f"{type(e).__name__}: {text}"


class MCPConnection:
    """The connection to one server (see the module docstring). Lives on one event loop."""

    def __init__(
        self,
        name: str,
        config: MCPServerConfig,
        *,
        log_dir: Path | None = None,
        sandbox: Any = None,
    ) -> None:
        self.name = name
        self.config = config
        self.log_dir = log_dir
        self.sandbox = sandbox  # the project's SandboxConfig (None: the default)
        self.sandboxed: bool | None = None  # known once a stdio server has been started
        self.unsandboxed_because: str | None = None
        self.state: State = "idle"
        self.tools: list[Any] = []  # mcp.types.Tool of the last listing
        self.tools_version = 0  # bumped on every listing (at connect and on list_changed)
        self.server_info: dict[str, Any] = {}
        self.last_error: str | None = None
        self.connects = 0  # successful connections so far
        self.failures = 0  # failed connects / losses since the last success
        self.next_retry_at: float | None = None
        self.session: Any = None
        self._closing = False
        self._signal = asyncio.Event()
        self._refresh = False
        self._lost: str | None = None
        self._stderr_offset = 0
        self._settled = asyncio.Event()  # set when the first connect succeeded or failed

    # -- the owner task ------------------------------------------------------------------
    async def run(self) -> None:
        """Connect, serve, reconnect with backoff until `close()`; never raises."""
        cfg = self.config
        delay = cfg.reconnect_initial_s
        while not self._closing:
            self.state = "connecting"
            before = self.connects
            self._stderr_offset = self._stderr_size()
            try:
                await self._serve_once()
            except Exception as e:  # anything the transport or the server did
                if not self._closing:
                    tail = self.stderr_tail(3)
                    self.last_error = _describe(e) + (f"; server stderr: {tail}" if tail else "")
                    level = logging.WARNING if self.failures == 0 else logging.DEBUG
                    log.log(level, "mcp server %r: %s", self.name, self.last_error)
            self.session = None
            if self._closing:
                break
            if self.connects > before:  # it was up: start the backoff afresh
                delay = cfg.reconnect_initial_s
            self.state = "down"
            self.failures += 1
            self._settled.set()
            self.next_retry_at = time.monotonic() + delay
            try:
                async with asyncio.timeout(delay):
                    while not self._closing:
                        await self._wait_signal()
            except TimeoutError:
                pass
            delay = min(delay * 2, cfg.reconnect_max_s)
        self.state = "closed"
        self.next_retry_at = None
        self._settled.set()

    async def _wait_signal(self) -> None:
        await self._signal.wait()
        self._signal.clear()

    async def _transport(self, cfg: MCPServerConfig, stack: AsyncExitStack) -> Any:
        """The transport's context manager; what it needs (an HTTP client, a log file) is
        entered into `stack`, so the same task closes it."""
        if cfg.transport == "http":
            import httpx2
            from mcp.client.streamable_http import streamable_http_client

            client = await stack.enter_async_context(
                httpx2.AsyncClient(
                    headers=cfg.headers or None,
                    timeout=httpx2.Timeout(
                        cfg.connect_timeout_s, read=max(300.0, cfg.call_timeout_s)
                    ),
                )
            )
            return streamable_http_client(cfg.url, http_client=client)
        from mcp.client.stdio import stdio_client

        from forgekit.agents.mcp.launch import stdio_launch

        workspace = self.log_dir / self.name if self.log_dir else None
        launch = stdio_launch(self.name, cfg, sandbox=self.sandbox, workspace=workspace)
        stack.callback(launch.close)  # after the transport has stopped the process
        self.sandboxed = launch.sandboxed
        self.unsandboxed_because = launch.unsandboxed_because
        return stdio_client(launch.params, errlog=stack.enter_context(self._errlog()))

    def _errlog(self) -> Any:
        """Where a stdio server's stderr goes: a log file per server (its tail is shown in
        errors), or /dev/null without a log folder. Closed by the caller's exit stack."""
        import os

        if self.stderr_path is None:
            return open(os.devnull, "w")  # noqa: SIM115
        self.stderr_path.parent.mkdir(parents=True, exist_ok=True)
        return open(self.stderr_path, "a", encoding="utf-8")  # noqa: SIM115

    @property
    def stderr_path(self) -> Path | None:
        return self.log_dir / f"{self.name}.stderr.log" if self.log_dir else None

    def _stderr_size(self) -> int:
        p = self.stderr_path
        return p.stat().st_size if p is not None and p.is_file() else 0

    def stderr_tail(self, n: int = 5) -> str:
        """The last lines the server wrote to stderr since the current connect began."""
        p = self.stderr_path
        if p is None or not p.is_file():
            return ""
        with open(p, "rb") as f:
            f.seek(self._stderr_offset)
            text = f.read()[-4000:].decode("utf-8", "replace")
        return " | ".join(line for line in text.splitlines()[-n:] if line.strip())

    async def _serve_once(self) -> None:
        import anyio
        from mcp.client.session import ClientSession

        cfg = self.config.resolved()
        async with AsyncExitStack() as stack:
            read, write = await stack.enter_async_context(await self._transport(cfg, stack))
            session = await stack.enter_async_context(
                ClientSession(read, write, message_handler=self._on_message)
            )
            try:
                with anyio.fail_after(cfg.connect_timeout_s):
                    init = await session.initialize()
                    await self._list_tools(session)
            except TimeoutError:
                why = f"no answer within connect_timeout_s={cfg.connect_timeout_s:g}"
                self._failed_early(why)
                raise _Lost(why) from None
            except Exception as e:
                self._failed_early(_describe(e))
                raise
            info = getattr(init, "server_info", None)
            self.server_info = info.model_dump(exclude_none=True) if info is not None else {}
            self.session = session
            self._lost = None
            self.state = "ready"
            self.connects += 1
            self.failures = 0
            self.last_error = None
            self.next_retry_at = None
            self._settled.set()
            await self._serve(session, cfg)

    def _failed_early(self, why: str) -> None:
        """A connect failed: say so now, before the transport's teardown (which can take
        seconds while a silent server is stopped) delays the owner task's own report."""
        self.last_error = why
        self.state = "down"
        self._settled.set()

    async def _serve(self, session: Any, cfg: MCPServerConfig) -> None:
        import anyio

        while True:
            try:
                async with asyncio.timeout(cfg.health_interval_s):
                    await self._wait_signal()
            except TimeoutError:
                try:
                    with anyio.fail_after(min(10.0, cfg.connect_timeout_s)):
                        await session.send_ping()
                except Exception as e:
                    raise _Lost(f"health check failed: {_describe(e)}") from None
                continue
            if self._closing:
                return
            if self._lost is not None:
                raise _Lost(self._lost)
            if self._refresh:
                self._refresh = False
                with anyio.fail_after(cfg.connect_timeout_s):
                    await self._list_tools(session)

    async def _list_tools(self, session: Any) -> None:
        tools: list[Any] = []
        cursor = None
        while True:
            if cursor is None:
                page = await session.list_tools()
            else:
                from mcp import types

                page = await session.list_tools(params=types.PaginatedRequestParams(cursor=cursor))
            tools.extend(page.tools)
            cursor = getattr(page, "next_cursor", None)
            if not cursor:
                break
        self.tools = tools
        self.tools_version += 1

    async def _on_message(self, message: Any) -> None:
        from mcp import types

        if isinstance(message, types.ToolListChangedNotification):
            self._refresh = True
            self._signal.set()
        elif isinstance(message, Exception):
            log.debug("mcp server %r transport: %s", self.name, message)

    def _mark_lost(self, why: str) -> None:
        """Calls fail fast from now on; the owner task tears down and reconnects."""
        if self._lost is None:
            self._lost = why
            self.last_error = why
        if self.state == "ready":
            self.state = "down"
        self.session = None
        self._signal.set()

    # -- used from other tasks on the same loop --------------------------------------------
    async def wait_settled(self, timeout: float) -> None:
        """Wait until the first connect succeeded or failed (or `timeout` passed)."""
        try:
            async with asyncio.timeout(timeout):
                await self._settled.wait()
        except TimeoutError:
            pass

    def down_message(self) -> str:
        tail = self.stderr_tail(3)
        tail = f"; server stderr: {tail}" if tail and tail not in (self.last_error or "") else ""
        if self.state == "closed":
            return f"MCP server {self.name!r} is closed{tail}"
        if self.state == "connecting" and self.connects == 0 and self.failures == 0:
            return f"MCP server {self.name!r} is not connected yet{tail}"
        retry = "reconnecting now"
        if self.state == "down" and self.next_retry_at is not None:
            wait = max(0.0, self.next_retry_at - time.monotonic())
            retry = f"next reconnect in {wait:.1f}s"
        why = self.last_error or "connection lost"
        return f"MCP server {self.name!r} is down ({why}; {retry}){tail}"

    async def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        """Call a tool on the live session; a ToolError when the server is down, the call
        times out or the connection breaks during it."""
        import anyio
        from mcp.shared.exceptions import MCPError
        from mcp.types import CONNECTION_CLOSED

        if self.state == "connecting" and self.connects == 0:
            await self.wait_settled(self.config.connect_timeout_s)
        session = self.session
        if self.state != "ready" or session is None:
            raise ToolError(self.down_message())
        try:
            with anyio.fail_after(self.config.call_timeout_s):
                return await session.call_tool(tool, arguments)
        except TimeoutError:
            raise ToolError(
                f"{self.name}.{tool} timed out after call_timeout_s={self.config.call_timeout_s:g}"
            ) from None
        except MCPError as e:
            if e.code == CONNECTION_CLOSED:
                self._mark_lost(f"connection closed during {tool}")
                tail = self.stderr_tail(3)
                raise ToolError(
                    f"MCP server {self.name!r} went down during {tool}: {e.message}"
                    + (f"; server stderr: {tail}" if tail else "")
                    + "; forgekit is reconnecting"
                ) from None
            raise ToolError(f"{self.name}.{tool}: {e.message}") from None

    async def ping(self) -> float:
        """Round-trip seconds of one ping; ToolError when down or unanswered."""
        import anyio

        session = self.session
        if self.state != "ready" or session is None:
            raise ToolError(self.down_message())
        t0 = time.perf_counter()
        try:
            with anyio.fail_after(min(10.0, self.config.connect_timeout_s)):
                await session.send_ping()
        except Exception as e:
            self._mark_lost(f"ping failed: {_describe(e)}")
            raise ToolError(
                f"MCP server {self.name!r} did not answer a ping: {_describe(e)}"
            ) from None
        return time.perf_counter() - t0

    def close(self) -> None:
        """Ask the owner task to exit the session and the transport, and stop."""
        self._closing = True
        self._signal.set()

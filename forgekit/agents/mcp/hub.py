"""`MCPHub`: the MCP servers of a project (or of one agent) and their tools.

The hub runs one event loop in a daemon thread (`forgekit-mcp`); every server connection
is one long-lived task on it (see `connection.py`). Callers on any loop or thread (a
notebook cell, `asyncio.run`, the eval runner's workers) reach it through
`run_coroutine_threadsafe`, so no SDK task group is ever entered in one task and left in
another, whatever the caller's loop does.

    hub = MCPHub({"servers": {"calc": {"command": "python", "args": ["calc_server.py"]}}})
    hub.start()                       # connects every server (each within its timeout)
    hub.tools()                       # [MCPTool('calc.add' as 'add'), ...]
    agent = Agent(model="local", mcp=hub)
    hub.close()                       # or `with MCPHub(...) as hub:`
"""

from __future__ import annotations

import asyncio
import atexit
import threading
import time
import weakref
from collections.abc import Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from forgekit.agents.mcp.connection import MCPConnection
from forgekit.agents.mcp.servers import MCPConfig, parse_mcp_config
from forgekit.agents.mcp.tool import MCPTool
from forgekit.agents.tools import ToolError
from forgekit.core.component import Component
from forgekit.core.errors import ConfigError

_T = TypeVar("_T")

_LIVE: weakref.WeakSet[MCPHub] = weakref.WeakSet()


class ServerStatus(BaseModel):
    """What `forgekit mcp list|check` shows for one server."""

    model_config = ConfigDict(extra="forbid")

    name: str
    transport: str
    state: str
    tools: list[str] = Field(default_factory=list)  # model-facing names, after allow/deny
    hidden: list[str] = Field(default_factory=list)  # tools allow/deny keeps from the model
    server_info: dict[str, Any] = Field(default_factory=dict)
    connects: int = 0
    sandboxed: bool | None = None  # stdio: started in the tool sandbox; None for HTTP
    unsandboxed_because: str | None = None
    last_error: str | None = None
    ping_s: float | None = None


class MCPHub(Component, type="mcp_hub", kind="mcp"):
    """The MCP servers of a project and their tools (see the module docstring).

    Args:
        config: an MCPConfig, the `mcp:` dict (`{"servers": {...}}`), or None for the
            project's `forgekit.yaml` section.
        log_dir: where stdio servers' stderr logs (and default workspaces) go (default
            `<project>/.forgekit/mcp`).
        source: the file the config came from (for error messages).
        sandbox: the tool sandbox's config for stdio servers (a SandboxConfig, its dict,
            or "none"; default: the project's `sandbox:` section when the config comes
            from forgekit.yaml, else bubblewrap with its defaults).
    """

    def __init__(
        self,
        config: MCPConfig | dict[str, Any] | None = None,
        *,
        log_dir: str | Path | None = None,
        source: str | None = None,
        sandbox: Any = None,
    ) -> None:
        if config is None:
            from forgekit.core.config import load_config

            project = load_config()
            config, source = project.mcp, project.source
            log_dir = log_dir or project.path(".forgekit/mcp")
            sandbox = sandbox if sandbox is not None else project.sandbox
        self.settings = parse_mcp_config(config, source=source)
        self.source = source
        self.log_dir = Path(log_dir) if log_dir else Path.cwd() / ".forgekit" / "mcp"
        self.connections = {
            name: MCPConnection(name, cfg, log_dir=self.log_dir, sandbox=sandbox)
            for name, cfg in self.settings.servers.items()
        }
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._tool_cache: tuple[tuple[int, ...], list[MCPTool]] | None = None

    def __repr__(self) -> str:
        states = {n: c.state for n, c in self.connections.items()}
        return f"MCPHub({states})"

    # a hub owns live connections: two hubs with one config are still two hubs
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, *, wait: bool = True) -> MCPHub:
        """Start the hub's loop and one connection task per server; with `wait`, return
        when every server is connected or has failed its first connect (errors do not
        raise: they show in `status()` and in tool errors)."""
        with self._lock:
            if not self.started:
                ready = threading.Event()
                self._thread = threading.Thread(
                    target=self._run_loop, args=(ready,), name="forgekit-mcp", daemon=True
                )
                self._thread.start()
                ready.wait()
                _LIVE.add(self)
            for name, conn in self.connections.items():
                if name not in self._tasks:
                    self._tasks[name] = asyncio.run_coroutine_threadsafe(
                        conn.run(), self._hub_loop()
                    )
        if wait:
            self._submit(self._settle_all()).result()
        return self

    def _run_loop(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _settle_all(self) -> None:
        await asyncio.gather(
            *(c.wait_settled(c.config.connect_timeout_s + 1) for c in self.connections.values())
        )

    def _hub_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None:  # closed by another thread in between
            raise RuntimeError("the MCP hub is closed")
        return loop

    def _submit(self, coro: Coroutine[Any, Any, _T]) -> Future[_T]:
        if not self.started:
            self.start(wait=False)
        return asyncio.run_coroutine_threadsafe(coro, self._hub_loop())

    def close(self, timeout: float = 15.0) -> None:
        """Close every connection (each owner task exits its session and transport and stops
        its server process), then stop the loop thread. Idempotent."""
        with self._lock:
            if not self.started:
                return
            loop = self._loop
            assert loop is not None
            for conn in self.connections.values():
                loop.call_soon_threadsafe(conn.close)
            deadline = time.monotonic() + timeout
            for fut in self._tasks.values():
                try:
                    fut.result(max(0.1, deadline - time.monotonic()))
                except Exception:
                    fut.cancel()
            self._tasks.clear()
            loop.call_soon_threadsafe(loop.stop)
            assert self._thread is not None
            self._thread.join(timeout=5)
            self._thread = None
            self._loop = None
            _LIVE.discard(self)

    def __enter__(self) -> MCPHub:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- tools -------------------------------------------------------------------------------
    def connection(self, server: str) -> MCPConnection:
        try:
            return self.connections[server]
        except KeyError:
            known = ", ".join(sorted(self.connections)) or "(none)"
            raise ConfigError(
                f"no MCP server {server!r}; configured: {known}", key=f"mcp.servers.{server}"
            ) from None

    def tools(self, servers: list[str] | None = None) -> list[MCPTool]:
        """The tools the model may see (after each server's allow/deny), named with each
        server's prefix. Two servers offering one name is a ConfigError unless a prefix
        tells them apart. Reflects the servers' latest listings (`tools/list_changed`)."""
        if not self.started:
            self.start()
        names = list(self.connections) if servers is None else servers
        conns = [self.connection(n) for n in names]
        key = tuple(c.tools_version for c in conns) + tuple(map(hash, names))
        if self._tool_cache is not None and self._tool_cache[0] == key:
            return list(self._tool_cache[1])
        out: list[MCPTool] = []
        seen: dict[str, str] = {}
        for conn in conns:
            cfg = conn.config
            for remote in conn.tools:
                if not cfg.offers(remote.name):
                    continue
                t = MCPTool(self, conn.name, remote, prefix=cfg.prefix, effect=cfg.effect)
                if t.name in seen:
                    raise ConfigError(
                        f"MCP tool name {t.name!r} is offered by servers {seen[t.name]!r} "
                        f"and {conn.name!r}; set a prefix on one of them "
                        f"(mcp.servers.{conn.name}.prefix) or deny the tool on one",
                        file=self.source,
                        key=f"mcp.servers.{conn.name}.prefix",
                    )
                seen[t.name] = conn.name
                out.append(t)
        self._tool_cache = (key, out)
        return list(out)

    async def acall(self, server: str, tool: str, arguments: dict[str, Any]) -> Any:
        """Call `tool` on `server` from any event loop; the SDK's CallToolResult."""
        conn = self.connection(server)
        coro = conn.call(tool, arguments)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and running is self._loop:
            return await coro
        return await asyncio.wrap_future(self._submit(coro))

    def call(self, server: str, tool: str, arguments: dict[str, Any] | None = None) -> Any:
        """Sync form of `acall` (scripts, notebook cells)."""
        return self._submit(self.connection(server).call(tool, arguments or {})).result()

    # -- health ------------------------------------------------------------------------------
    def status(self, *, ping: bool = False) -> list[ServerStatus]:
        """One row per server: state, tools offered and hidden, last error, ping time."""
        if not self.started:
            self.start()
        rows = []
        for name, conn in self.connections.items():
            ping_s = None
            if ping and conn.state == "ready":
                try:
                    ping_s = self._submit(conn.ping()).result()
                except ToolError:
                    pass
            offered = [t.name for t in self.tools([name])] if conn.tools else []
            rows.append(
                ServerStatus(
                    name=name,
                    transport=conn.config.transport,
                    state=conn.state,
                    tools=offered,
                    hidden=[t.name for t in conn.tools if not conn.config.offers(t.name)],
                    server_info=conn.server_info,
                    connects=conn.connects,
                    sandboxed=conn.sandboxed,
                    unsandboxed_because=conn.unsandboxed_because,
                    last_error=conn.last_error,
                    ping_s=ping_s,
                )
            )
        return rows

    def wait_ready(self, server: str, timeout: float = 30.0) -> bool:
        """Wait until `server` is connected (e.g. after a reconnect); False on timeout."""
        conn = self.connection(server)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if conn.state == "ready":
                return True
            time.sleep(0.02)
        return conn.state == "ready"


@atexit.register
def _close_all() -> None:  # stdio server processes never outlive the interpreter
    for hub in list(_LIVE):
        try:
            hub.close(timeout=5)
        except Exception:
            pass


_PROJECT: dict[str, MCPHub] = {}
_PROJECT_LOCK = threading.Lock()


def project_hub() -> MCPHub:
    """The process-wide hub of the current project's `forgekit.yaml` `mcp:` section
    (one per config file), started on first use and closed at exit."""
    from forgekit.core.config import load_config

    project = load_config()
    key = project.source or str(project.root)
    with _PROJECT_LOCK:
        hub = _PROJECT.get(key)
        if hub is None or not hub.started:
            hub = _PROJECT[key] = MCPHub(
                project.mcp,
                source=project.source,
                log_dir=project.path(".forgekit/mcp"),
                sandbox=project.sandbox,
            )
            hub.start()
    return hub

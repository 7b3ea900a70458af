"""`forgekit mcp ...`: the MCP servers of forgekit.yaml.

forgekit mcp list            # servers, their state and the tools the model sees
forgekit mcp check           # connect, ping each server; exit 1 if any is down
forgekit mcp list --json
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from forgekit.agents.mcp import MCPHub


def _hub(args: argparse.Namespace) -> MCPHub | None:
    from forgekit.agents.mcp import MCPHub
    from forgekit.core.config import load_config

    cfg = load_config()
    if not cfg.mcp.get("servers"):
        return None
    hub = MCPHub(cfg.mcp, source=cfg.source, log_dir=cfg.path(".forgekit/mcp"), sandbox=cfg.sandbox)
    if args.timeout is not None:
        for conn in hub.connections.values():
            conn.config = conn.config.model_copy(update={"connect_timeout_s": args.timeout})
    return hub


def _show(args: argparse.Namespace, *, ping: bool) -> int:
    hub = _hub(args)
    if hub is None:
        print("no MCP servers configured (add them under mcp: servers: in forgekit.yaml)")
        return 0
    try:
        rows = hub.status(ping=ping)
        if args.json:
            print(json.dumps([r.model_dump() for r in rows], indent=2))
        else:
            for r in rows:
                ping_txt = f", ping {r.ping_s * 1000:.1f} ms" if r.ping_s is not None else ""
                box = {True: ", sandboxed", False: ", NOT sandboxed", None: ""}[r.sandboxed]
                print(f"{r.name} [{r.transport}] {r.state}{box}{ping_txt}")
                if r.sandboxed is False and r.unsandboxed_because:
                    print(f"  not sandboxed: {r.unsandboxed_because}")
                if r.last_error:
                    print(f"  error: {r.last_error}")
                if not ping:
                    conn = hub.connections[r.name]
                    by_name = {t.name: t for t in conn.tools}
                    for t in hub.tools([r.name]):
                        desc = (by_name[t.remote_name].description or "").strip().split("\n")[0]
                        print(f"  - {t.name} ({t.qualified_name}) [{t.effect}]: {desc}")
                    for name in r.hidden:
                        print(f"  - (hidden by allow/deny) {name}")
    finally:
        hub.close()
    down = [r.name for r in rows if r.state != "ready" or (ping and r.ping_s is None)]
    if ping and not args.json:
        print("all servers healthy" if not down else f"down: {', '.join(down)}")
    return 1 if ping and down else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mcp", help="MCP servers: list their tools, check their health")
    p.set_defaults(func=lambda a: p.print_help() or 0)
    mcp_sub = p.add_subparsers(dest="mcp_command", metavar="ACTION")
    for name, ping, text in [
        ("list", False, "show each server's state and the tools the model sees"),
        ("check", True, "connect and ping each server (exit 1 if any is down)"),
    ]:
        c = mcp_sub.add_parser(name, help=text)
        c.add_argument("--json", action="store_true", help="print JSON")
        c.add_argument("--timeout", type=float, help="connect timeout per server (seconds)")
        c.set_defaults(func=lambda a, ping=ping: _show(a, ping=ping))

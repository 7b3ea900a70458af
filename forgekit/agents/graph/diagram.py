"""A graph as a picture: Mermaid text, and a self-contained SVG (no script, no network:
it survives papermill, nbval and an offline notebook) coloured by node status."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from forgekit.agents.graph.flow import Graph

COLORS = {
    "pending": "#f3f3f3", "running": "#ffe08a", "done": "#b7e1a1", "restored": "#a9c8f5",
    "failed": "#f4a3a3", "cancelled": "#d5d5d5", "stopped": "#f4c27a",
}
W, H, GAP_X, GAP_Y = 150, 40, 70, 30


def _status(status: dict[str, str] | None, name: str) -> str:
    return (status or {}).get(name, "pending")


def to_mermaid(graph: Graph, status: dict[str, str] | None = None) -> str:
    """Mermaid flowchart text (conditions as edge labels, status as a class)."""
    lines = ["flowchart LR"]
    for n in graph.nodes:
        lines.append(f'  {n.name}["{n.name}"]:::{_status(status, n.name)}')
    for e in graph.edges:
        label = e.when.label().replace('"', "'") if e.when else ""
        arrow = f' -- "{label}" --> ' if label else " --> "
        lines.append(f"  {e.source}{arrow}{e.target}")
    for s, color in COLORS.items():
        lines.append(f"  classDef {s} fill:{color}")
    return "\n".join(lines)


def _layers(graph: Graph) -> dict[str, int]:
    """Column of each node: the longest forward path from a start node."""
    col = {s: 0 for s in graph.starts}
    forward = [e for e in graph.edges if (e.source, e.target) not in graph.back]
    for _ in range(len(graph.nodes)):
        changed = False
        for e in forward:
            if e.source in col and col.get(e.target, -1) < col[e.source] + 1:
                col[e.target] = col[e.source] + 1
                changed = True
        if not changed:
            break
    for n in graph.nodes:
        col.setdefault(n.name, 0)
    return col


def to_svg(graph: Graph, status: dict[str, str] | None = None, *,
           title: str | None = None) -> str:
    """The graph as inline SVG: columns by depth, conditions on the edges, fill by status."""
    col = _layers(graph)
    rows: dict[int, int] = {}
    pos: dict[str, tuple[int, int]] = {}
    for n in graph.nodes:
        c = col[n.name]
        r = rows.get(c, 0)
        rows[c] = r + 1
        pos[n.name] = (20 + c * (W + GAP_X), 40 + r * (H + GAP_Y))
    width = 40 + (max(col.values()) + 1) * (W + GAP_X)
    height = 60 + max(rows.values()) * (H + GAP_Y) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12" class="forgekit-graph">',
        '<defs><marker id="fk-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
        f'<text x="20" y="20" font-weight="bold">{html.escape(graph.name)}</text>',
    ]
    sx: float
    sy: float
    tx: float
    ty: float
    for e in graph.edges:
        (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
        label = html.escape(e.when.label()) if e.when else ""
        if (e.source, e.target) in graph.back or x2 <= x1:
            # a loop back: an arc under the boxes
            sx, sy, tx, ty = x1 + W / 2, y1 + H, x2 + W / 2, y2 + H
            dy = 30 + abs(sx - tx) / 6
            d = f"M {sx} {sy} C {sx} {sy + dy}, {tx} {ty + dy}, {tx} {ty}"
            lx, ly = (sx + tx) / 2, max(sy, ty) + dy * 0.8
        else:
            sx, sy, tx, ty = x1 + W, y1 + H / 2, x2, y2 + H / 2
            d = f"M {sx} {sy} L {tx} {ty}"
            lx, ly = (sx + tx) / 2, (sy + ty) / 2 - 5
        dash = ' stroke-dasharray="4 3"' if e.when else ""
        out.append(f'<path d="{d}" fill="none" stroke="#555"{dash} '
                   f'marker-end="url(#fk-arrow)"><title>{html.escape(e.label())}</title></path>')
        if label:
            out.append(f'<text x="{lx}" y="{ly}" text-anchor="middle" font-size="10" '
                       f'fill="#333">{label}</text>')
    for n in graph.nodes:
        x, y = pos[n.name]
        st = _status(status, n.name)
        fill = COLORS.get(st, COLORS["pending"])
        out.append(
            f'<g class="node" data-node="{html.escape(n.name)}" data-status="{st}">'
            f'<rect x="{x}" y="{y}" width="{W}" height="{H}" rx="6" fill="{fill}" '
            f'stroke="#444"/><text x="{x + W / 2}" y="{y + 17}" text-anchor="middle">'
            f'{html.escape(n.name)}</text><text x="{x + W / 2}" y="{y + 31}" '
            f'text-anchor="middle" font-size="10" fill="#555">{st}'
            f'{" · " + n.join if n.join == "any" else ""}</text></g>'
        )
    if title:
        out.append(f'<text x="20" y="{height - 10}" font-size="11" fill="#333">'
                   f'{html.escape(title)}</text>')
    out.append("</svg>")
    return "".join(out)

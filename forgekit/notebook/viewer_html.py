"""The eval viewer's script-free HTML: what papermill keeps, nbval compares and GitHub
shows when the widget cannot run. Left-aligned prose, answers wrapped, never cut."""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = (
    "<style>.fk-sv{font-family:system-ui,sans-serif;font-size:13px}"
    ".fk-sv table{border-collapse:collapse;margin:4px 0 10px}"
    ".fk-sv th,.fk-sv td{border:1px solid #ddd;padding:2px 6px;text-align:left;"
    "vertical-align:top;white-space:pre-wrap;overflow-wrap:anywhere;max-width:420px}"
    ".fk-sv td.fk-n{text-align:right;white-space:nowrap}"
    ".fk-sv .fk-pass{color:#2e7d32}.fk-sv .fk-fail{color:#c62828}"
    ".fk-sv .fk-reading{margin:2px 0 8px;max-width:900px}</style>"
)
_CLIP = 600  # characters of a long text shown in the static table (the rest is counted)


def _fmt(v: Any, spec: str = ".3f") -> str:
    return "–" if v is None else format(v, spec)


def _text(v: Any) -> str:
    s = "" if v is None else str(v)
    if len(s) > _CLIP:
        s = s[:_CLIP] + f" … [{len(s)} chars]"
    return escape(s)


def score_html(cell: dict[str, Any], threshold: float) -> str:
    v = cell.get("score")
    if cell.get("status") != "completed":
        return f'<span class="fk-fail">{escape(str(cell.get("status")))}</span>'
    cls = "fk-pass" if v is not None and v >= threshold else "fk-fail"
    return f'<span class="{cls}">{_fmt(v, ".2f")}</span>'


def static_html(header: dict[str, Any], rows: list[dict[str, Any]], counts: dict[str, int]) -> str:
    cells = header["cells"]
    parts = [
        _STYLE,
        '<div class="fk-sv fk-static-viewer">',
        f"<b>evaluation {escape(str(header['title']))}</b>",
        "<table><tr><th>model/solver</th><th>samples</th><th>errors</th><th>accuracy</th>"
        "<th>95% CI (bootstrap)</th><th>cost</th></tr>",
    ]
    for c in cells:
        parts.append(
            f"<tr><td>{escape(c['label'])}</td><td class='fk-n'>{c['samples']}</td>"
            f"<td class='fk-n'>{c['errors']}</td><td class='fk-n'>{_fmt(c['accuracy'])}</td>"
            f"<td class='fk-n'>[{_fmt(c['ci_low'])}, {_fmt(c['ci_high'])}]</td>"
            f"<td class='fk-n'>${c['cost_usd']:.4f}</td></tr>"
        )
    parts.append("</table>")
    for comp in header["comparisons"]:
        parts.append(
            f"<div class='fk-reading'><b>{escape(comp['name'])} vs {escape(comp['baseline'])}"
            f"</b>: difference {_fmt(comp['diff'], '+.3f')}, 95% CI "
            f"[{_fmt(comp['ci_low'], '+.3f')}, {_fmt(comp['ci_high'], '+.3f')}], "
            f"p = {_fmt(comp['p_value'])} (won {comp['won']}, lost {comp['lost']}, "
            f"n = {comp['n']}).<br>{escape(comp['reading'])}</div>"
        )
    shown = len(rows)
    parts.append(
        f"<div>{counts['all']} samples · {counts['disagree']} disagreements · "
        f"{counts['failed']} with a failure — the first {shown}, disagreements first "
        "(the live viewer filters, searches and opens transcripts):</div>"
    )
    head = "".join(f"<th>{escape(c['label'])}</th>" for c in cells)
    parts.append(f"<table><tr><th>sample</th><th>input</th><th>target</th>{head}</tr>")
    for r in rows:
        tds = "".join(
            f"<td>{score_html(c, r['threshold'])} {_text(c.get('answer') or c.get('error'))}"
            "</td>"
            for c in r["cells"]
        )
        parts.append(
            f"<tr><td>{escape(str(r['id']))}</td><td>{_text(r['input'])}</td>"
            f"<td>{_text(r['target'])}</td>{tds}</tr>"
        )
    parts.append("</table></div>")
    return "".join(parts)

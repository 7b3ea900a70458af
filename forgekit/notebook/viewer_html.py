"""The eval viewer's script-free HTML: what papermill keeps, nbval compares and GitHub
shows when the widget cannot run. Left-aligned prose, answers wrapped, never cut."""

from __future__ import annotations

from html import escape
from typing import Any

# inline styles: notebook front ends right-align table cells and GitHub drops <style>
_CELL = "border:1px solid #ddd;padding:2px 6px;vertical-align:top;"
_TD = _CELL + "text-align:left;white-space:pre-wrap;overflow-wrap:anywhere;max-width:420px"
_NUM = _CELL + "text-align:right;white-space:nowrap"
_TH = _CELL + "text-align:left;background:#f3f3f3"
_TABLE = "border-collapse:collapse;margin:4px 0 10px;font-size:13px"
_PASS, _FAIL = "color:#2e7d32", "color:#c62828"
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
        return f'<span style="{_FAIL}">{escape(str(cell.get("status")))}</span>'
    style = _PASS if v is not None and v >= threshold else _FAIL
    return f'<span style="{style}">{_fmt(v, ".2f")}</span>'


def static_html(header: dict[str, Any], rows: list[dict[str, Any]], counts: dict[str, int]) -> str:
    cells = header["cells"]
    th = "".join(
        f"<th style='{_TH}'>{h}</th>"
        for h in ("model/solver", "samples", "errors", "accuracy", "95% CI (bootstrap)", "cost")
    )
    parts = [
        '<div class="fk-static-viewer" style="font-family:system-ui,sans-serif;font-size:13px">',
        f"<b>evaluation {escape(str(header['title']))}</b>",
        f"<table style='{_TABLE}'><tr>{th}</tr>",
    ]
    for c in cells:
        parts.append(
            f"<tr><td style='{_TD}'>{escape(c['label'])}</td>"
            f"<td style='{_NUM}'>{c['samples']}</td><td style='{_NUM}'>{c['errors']}</td>"
            f"<td style='{_NUM}'>{_fmt(c['accuracy'])}</td>"
            f"<td style='{_NUM}'>[{_fmt(c['ci_low'])}, {_fmt(c['ci_high'])}]</td>"
            f"<td style='{_NUM}'>${c['cost_usd']:.4f}</td></tr>"
        )
    parts.append("</table>")
    for comp in header["comparisons"]:
        parts.append(
            f"<div style='margin:2px 0 8px;max-width:900px;text-align:left'>"
            f"<b>{escape(comp['name'])} vs {escape(comp['baseline'])}"
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
    head = "".join(f"<th style='{_TH}'>{escape(c['label'])}</th>" for c in cells)
    parts.append(
        f"<table style='{_TABLE}'><tr><th style='{_TH}'>sample</th><th style='{_TH}'>input</th>"
        f"<th style='{_TH}'>target</th>{head}</tr>"
    )
    for r in rows:
        tds = "".join(
            f"<td style='{_TD}'>{score_html(c, r['threshold'])} "
            f"{_text(c.get('answer') or c.get('error'))}</td>"
            for c in r["cells"]
        )
        parts.append(
            f"<tr><td style='{_TD}'>{escape(str(r['id']))}</td>"
            f"<td style='{_TD}'>{_text(r['input'])}</td>"
            f"<td style='{_TD}'>{_text(r['target'])}</td>{tds}</tr>"
        )
    parts.append("</table></div>")
    return "".join(parts)

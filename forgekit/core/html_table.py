"""`table_html`: the one static HTML table of forgekit's views (strategy results, eval
summaries and reports). Inline styles only: it renders the same in a notebook, in a
papermill output, on GitHub and in a saved report, with no script and no stylesheet.

Example:
    >>> table_html([{"solver": "plain", "accuracy": 0.5}])[:6]
    '<table'
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

TABLE_STYLE = (
    "border-collapse:collapse;font-size:12px;margin:4px 0;font-family:ui-monospace,monospace"
)
CELL_STYLE = "border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top"
HIGHLIGHT_STYLE = "background:#e6f4ea;font-weight:bold;"


class Frame(Protocol):
    """What `table_html` needs of a DataFrame (a polars one has it)."""

    @property
    def columns(self) -> list[str]: ...
    @property
    def height(self) -> int: ...
    def iter_rows(self, *, named: bool = ...) -> Iterable[Any]: ...


def cell_text(value: Any, limit: int | None = 160) -> str:
    """One value as escaped cell text: None empty, floats to 4 significant digits, other
    non-strings as JSON; whitespace collapsed; cut to `limit` characters (None: whole)."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool) or isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = str(value) if math.isnan(value) or math.isinf(value) else f"{value:.4g}"
    else:
        text = json.dumps(value, default=str)
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text)


def table_html(
    rows: Sequence[Mapping[str, Any]] | Frame,
    columns: Sequence[str] | None = None,
    highlight: int | None = None,
    *,
    links: Mapping[str, str] | None = None,
    max_rows: int | None = None,
    limit: int | None = 160,
    css_class: str | None = None,
) -> str:
    """A plain HTML table of dict rows or a DataFrame.

    Args:
        rows: dicts (a missing key is an empty cell), or a DataFrame (`Frame`).
        columns: the columns, in order (default: the frame's, or every key in order).
        highlight: the position of a row to shade (the chosen candidate).
        links: column -> a URL template filled from the row (`"{trajectory}"`): that
            column's cells become links (when the cell has a value).
        max_rows: show at most this many rows, then say how many more there are.
        limit: cut each cell's text to this many characters (None: never).
        css_class: a class for a page's stylesheet (the report's); the inline styles
            stay, so the table looks right without it.
    """
    if isinstance(rows, Sequence):
        items: list[Mapping[str, Any]] = list(rows)
        total = len(items)
        cols = list(columns) if columns is not None else list(
            dict.fromkeys(k for r in items for k in r)
        )
    else:
        total = rows.height
        items = []
        for i, r in enumerate(rows.iter_rows(named=True)):
            if max_rows is not None and i >= max_rows:
                break
            items.append(r)
        cols = list(columns) if columns is not None else list(rows.columns)
    if max_rows is not None:
        items = items[:max_rows]
    head = "".join(f"<th style='{CELL_STYLE}'>{html.escape(c)}</th>" for c in cols)
    body = []
    for i, row in enumerate(items):
        shade = HIGHLIGHT_STYLE if i == highlight else ""
        cells = []
        for c in cols:
            text = cell_text(row.get(c), limit)
            if links and c in links and row.get(c):
                url = html.escape(links[c].format(**row))
                text = f'<a href="{url}">{text}</a>'
            cells.append(f"<td style='{CELL_STYLE}'>{text}</td>")
        body.append(f"<tr style='{shade}'>{''.join(cells)}</tr>")
    more = f"<p>… {total - len(items)} more rows</p>" if total > len(items) else ""
    cls = f" class='{html.escape(css_class)}'" if css_class else ""
    return f"<table{cls} style='{TABLE_STYLE}'><tr>{head}</tr>{''.join(body)}</table>{more}"


__all__ = ["CELL_STYLE", "TABLE_STYLE", "Frame", "cell_text", "table_html"]

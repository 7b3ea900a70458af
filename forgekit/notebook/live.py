"""`LiveView`: the base of forgekit's notebook widgets.

A live view holds plain Python state and renders it two ways:

- **live**: an anywidget (one ES module per view in `forgekit/notebook/static/`), the
  same code in JupyterLab, VS Code and marimo. Python pushes a JSON `data` dict to the
  front end; the front end sends small action messages back (`{"action": ...}`).
- **static**: `_repr_html_`, which papermill keeps, nbval compares and GitHub shows.

Displaying a view puts both in the output bundle; a front end with the widget manager
shows the widget, anything else shows the HTML. anywidget is imported only when a widget
is first needed, so `import forgekit.notebook` stays light.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

log = logging.getLogger("forgekit.notebook")

STATIC = Path(__file__).parent / "static"
_CLASSES: dict[str, type] = {}
_CLASSES_LOCK = threading.Lock()


SHARED_JS = ("dom.js", "transcript.js")  # put in front of every view's module


def module_source(name: str, *, esm: bool = True) -> str:
    """The JavaScript of view `name`: the shared helpers, then `static/<name>.js`; with
    `esm=False` without its `export` line, for a classic <script> (static exports)."""
    parts = [(STATIC / f).read_text(encoding="utf-8") for f in (*SHARED_JS, f"{name}.js")]
    src = "\n".join(parts)
    return src if esm else src.replace("export default { render };", "")


def widget_class(name: str, traits: tuple[str, ...] = ()) -> type:
    """The anywidget class for `static/<name>.js` (built once, on first use): a synced
    `data` dict, plus one synced dict per name in `traits` (e.g. the eval viewer's `rows`,
    the windows of rows it scrolls to, sent apart from the rest of its state)."""
    with _CLASSES_LOCK:
        if name not in _CLASSES:
            import anywidget
            import traitlets

            extra = {t: traitlets.Dict().tag(sync=True) for t in traits}
            _CLASSES[name] = type(
                f"Forgekit{name.title().replace('_', '')}Widget",
                (anywidget.AnyWidget,),
                {
                    "__module__": __name__,
                    # one ES module: the shared helpers, then the view
                    "_esm": module_source(name),
                    "_css": (STATIC / "forgekit.css").read_text(encoding="utf-8"),
                    "data": traitlets.Dict().tag(sync=True),
                    **extra,
                },
            )
        return _CLASSES[name]


class LiveView:
    """Base class: subclasses set `widget_name` and implement `state()` and `html()`.

    Updates from any thread are coalesced: at most one push per `min_interval_s`, and the
    last state always arrives.
    """

    widget_name: ClassVar[str] = ""
    widget_traits: ClassVar[tuple[str, ...]] = ()  # synced dicts besides `data`
    min_interval_s: ClassVar[float] = 0.1

    def __init__(self) -> None:
        self._widget: Any = None
        self._push_lock = threading.Lock()
        self._last_push = 0.0
        self._timer: threading.Timer | None = None

    # -- what subclasses provide --------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The JSON-safe state the front end renders."""
        raise NotImplementedError

    def html(self) -> str:
        """The static HTML view."""
        raise NotImplementedError

    def trait_state(self) -> dict[str, Any]:
        """The values of the `widget_traits` (besides `data`) the widget starts with."""
        return {}

    def set_trait(self, name: str, value: dict[str, Any]) -> None:
        """Send one of the `widget_traits` to the front end (no-op before the widget)."""
        with self._push_lock:
            if self._widget is not None:
                setattr(self._widget, name, value)

    def handle(self, message: dict[str, Any]) -> None:
        """An action sent by the front end (`{"action": ..., ...}`)."""

    # -- the widget ---------------------------------------------------------------------
    @property
    def widget(self) -> Any:
        """The anywidget instance (created on first access)."""
        # under the push lock: a refresh from another thread either sees no widget yet
        # (and the state read here is newer than its change) or waits and pushes after
        with self._push_lock:
            if self._widget is None:
                w = widget_class(self.widget_name, self.widget_traits)(
                    data=self.state(), **self.trait_state()
                )
                w.on_msg(self._on_msg)
                self._widget = w
                self._last_push = time.monotonic()
        return self._widget

    def _on_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        try:
            self.handle(content)
        except Exception as e:  # a bad click never kills the kernel's comm handler
            log.warning("%s: action %r failed: %s", type(self).__name__, content, e)

    def refresh(self, *, force: bool = False) -> None:
        """Push the current state to the front end (throttled unless `force`)."""
        with self._push_lock:
            if self._widget is None:
                return
            now = time.monotonic()
            wait = self._last_push + self.min_interval_s - now
            if force or wait <= 0:
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
                self._last_push = now
                self._widget.data = self.state()
                return
            if self._timer is None:  # a trailing push carries the latest state
                self._timer = threading.Timer(wait, self._trailing)
                self._timer.daemon = True
                self._timer.start()

    def _trailing(self) -> None:
        with self._push_lock:
            self._timer = None
            self._last_push = time.monotonic()
            if self._widget is not None:
                self._widget.data = self.state()

    # -- display protocols --------------------------------------------------------------
    def _repr_html_(self) -> str:
        return self.html()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": repr(self), "text/html": self.html()}
        if os.environ.get("FORGEKIT_STATIC_DISPLAY", "") not in ("", "0"):
            return bundle  # live views are off: the static view only
        try:
            out = self.widget._repr_mimebundle_()
        except ImportError:  # no anywidget: the static view is all there is
            out = None
        if isinstance(out, tuple):  # (data, metadata)
            out = out[0]
        bundle.update(out or {})
        bundle["text/plain"] = repr(self)
        return bundle

    def _display_(self) -> Any:
        """marimo: show the live widget."""
        import marimo as mo

        return mo.ui.anywidget(self.widget)

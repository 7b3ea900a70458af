"""One mechanism by which forgekit's main objects render live in notebooks.

An object that should render live (`EvalResults`, `Trajectory`, `StrategyResult`,
`Agent`, `Index`, ...) inherits `LiveDisplay`. When a front end asks it for a rich display
(Jupyter's `_repr_mimebundle_`, marimo's `_display_`), the hook loads the views provider
(`VIEWS_PROVIDER`, by default the notebook layer's `forgekit.notebook.views`) *by name*, so
lower layers never import the notebook layer and `import forgekit` stays light. The
provider returns a live view (an anywidget plus a static HTML fallback) for the object, or
None; without one the object's own `_repr_html_` is shown, as before. Where no widget can
run (`FORGEKIT_STATIC_DISPLAY=1`, papermill, GitHub) the static HTML is the object's own
`_repr_html_`, or for an object without one (an `Agent`) its view's script-free form.

Example:
    >>> class Thing(LiveDisplay):
    ...     def _repr_html_(self) -> str:
    ...         return "<b>thing</b>"
    >>> "<b>thing</b>" in static_bundle(Thing())["text/html"]
    True
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

log = logging.getLogger("forgekit.display")

VIEWS_PROVIDER = "forgekit.notebook.views"


def _view(obj: Any) -> Any | None:
    """The view of `obj` from the views provider (None: no provider, or no view)."""
    try:
        provider = importlib.import_module(VIEWS_PROVIDER)
    except ImportError as e:  # the notebook extra is not installed
        log.debug("no live views: %s", e)
        return None
    return provider.view_for(obj)


def live_view(obj: Any) -> Any | None:
    """The live view of `obj` from the views provider, or None (no provider installed,
    no view for this type, or `FORGEKIT_STATIC_DISPLAY=1`)."""
    if os.environ.get("FORGEKIT_STATIC_DISPLAY", "") not in ("", "0"):
        return None
    return _view(obj)


def static_html(obj: Any) -> str | None:
    """`obj`'s static HTML, the same as the fallback beside its live view: its own
    `_repr_html_`, unless its view's script-free form replaces it (the eval viewer's) or
    it has none (an `Agent`'s card); None when there is neither. Built without a widget,
    so it works where none can run."""
    own = getattr(obj, "_repr_html_", None)
    try:
        view = _view(obj)
    except Exception as e:  # a view that cannot be built must not hide the object
        log.warning("static view of %s failed: %s", type(obj).__name__, e)
        view = None
    if view is not None and (not callable(own) or getattr(view, "replaces_static_html", False)):
        return view.html()
    return own() if callable(own) else None


def export_fragment(obj: Any, **options: Any) -> str | None:
    """An interactive, offline HTML fragment of `obj`'s view (scripts and data inline) for
    a page such as report.html, or None when its view has no export."""
    view = live_view(obj)
    export = getattr(view, "export_fragment", None)
    return export(**options) if callable(export) else None


def static_bundle(obj: Any) -> dict[str, Any]:
    """text/plain and (when the object has one) its static text/html."""
    bundle: dict[str, Any] = {"text/plain": repr(obj)}
    html = static_html(obj)
    if html is not None:
        bundle["text/html"] = html
    return bundle


def mimebundle(obj: Any) -> dict[str, Any]:
    """The display bundle: the live widget (where the front end has a widget manager) and
    the static HTML fallback (what papermill keeps and nbval compares)."""
    try:
        view = live_view(obj)
    except Exception as e:  # a view that cannot be built must not hide the object
        log.warning("live view of %s failed: %s", type(obj).__name__, e)
        view = None
    if view is None:
        return static_bundle(obj)
    bundle = view._repr_mimebundle_()
    bundle["text/plain"] = repr(obj)
    # the object's own static HTML stays the fallback (stored outputs do not change),
    # unless the view's static form is meant to replace it (the eval viewer's); an
    # object without one (an Agent) keeps the view's static form (its card)
    own = getattr(obj, "_repr_html_", None)
    if callable(own) and not getattr(view, "replaces_static_html", False):
        bundle["text/html"] = own()
    return bundle


class LiveDisplay:
    """Mixin: render through the views provider in Jupyter, VS Code and marimo."""

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return mimebundle(self)

    def _display_(self) -> Any:
        """marimo: the live widget, else the static HTML."""
        view = None
        try:
            view = live_view(self)
        except Exception as e:
            log.warning("live view of %s failed: %s", type(self).__name__, e)
        if view is not None:
            return view._display_()
        import marimo as mo

        html = static_html(self)
        return mo.Html(html) if html is not None else mo.plain_text(repr(self))

    def view(self) -> Any:
        """The live view object itself (e.g. `results.view().widget`), or None."""
        return live_view(self)

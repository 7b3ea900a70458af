"""One display mechanism: live views found by class name, static HTML as the fallback."""

from __future__ import annotations

import pytest

from forgekit.core.display import LiveDisplay, mimebundle


class Plain(LiveDisplay):
    def _repr_html_(self) -> str:
        return "<b>plain</b>"

    def __repr__(self) -> str:
        return "Plain()"


def test_object_without_a_view_keeps_its_html() -> None:
    assert mimebundle(Plain()) == {"text/plain": "Plain()", "text/html": "<b>plain</b>"}
    assert Plain().view() is None


def test_registered_view_adds_the_widget_and_keeps_the_objects_html(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from forgekit.notebook.live import LiveView
    from forgekit.notebook.views import _VIEWS, register_view

    class Shown(LiveView):
        widget_name = "card"

        def state(self) -> dict:
            return {"title": "shown", "sections": []}

        def html(self) -> str:
            return "<i>view</i>"

    monkeypatch.setitem(_VIEWS, f"{__name__}.Plain", lambda obj: Shown())
    bundle = Plain()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"] == "<b>plain</b>" and bundle["text/plain"] == "Plain()"
    monkeypatch.setenv("FORGEKIT_STATIC_DISPLAY", "1")
    assert "application/vnd.jupyter.widget-view+json" not in Plain()._repr_mimebundle_()
    assert callable(register_view)


def test_a_failing_view_falls_back_to_static(monkeypatch: pytest.MonkeyPatch) -> None:
    from forgekit.notebook.views import _VIEWS

    def broken(obj):
        raise RuntimeError("boom")

    monkeypatch.setitem(_VIEWS, f"{__name__}.Plain", broken)
    assert mimebundle(Plain())["text/html"] == "<b>plain</b>"

"""The views provider: which live view renders which forgekit object.

`forgekit.core.display` loads this module by name when a notebook front end asks an object
for a rich display, and calls `view_for(obj)`. Types are matched by their qualified class
name along the object's MRO, so nothing here imports the layers whose objects it shows.
Other layers or users add views with `register_view` (e.g. a live graph diagram):

    >>> from forgekit.notebook.views import register_view
    >>> register_view("mypkg.flows.Flow", lambda flow: MyFlowView(flow))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Factory = Callable[[Any], Any]


def _viewer(results: Any) -> Any:
    from forgekit.notebook.viewer import EvalViewer

    return EvalViewer(results)


def _inspector(trajectory: Any) -> Any:
    from forgekit.notebook.inspector import TrajectoryInspector

    return TrajectoryInspector(trajectory)


def _explorer(index: Any) -> Any:
    from forgekit.notebook.explorer import IndexExplorer

    return IndexExplorer(index)


def _agent(agent: Any) -> Any:
    from forgekit.notebook.cards import AgentCard

    return AgentCard(agent)


def _strategy(result: Any) -> Any:
    from forgekit.notebook.cards import StrategyCard

    return StrategyCard(result)


_VIEWS: dict[str, Factory] = {
    "forgekit.agents.agent.Agent": _agent,
    "forgekit.quality.result.StrategyResult": _strategy,
    "forgekit.evals.results.EvalResults": _viewer,
    "forgekit.trajectory.reader.Trajectory": _inspector,
    "forgekit.rag.index.Index": _explorer,
}


def register_view(qualname: str, factory: Factory) -> None:
    """Render objects of class `qualname` ("package.module.Class", subclasses included)
    with `factory(obj)`, a `LiveView`."""
    _VIEWS[qualname] = factory


def view_for(obj: Any) -> Any | None:
    """The live view of `obj`, or None when no view is registered for its type."""
    for cls in type(obj).__mro__:
        factory = _VIEWS.get(f"{cls.__module__}.{cls.__qualname__}")
        if factory is not None:
            return factory(obj)
    return None

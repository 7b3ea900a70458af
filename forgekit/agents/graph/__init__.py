"""forgekit.agents.graph: graphs of solvers with conditional edges, fan-out, joins, races
and cycles with exit conditions; validated when built, recorded as one trajectory with a
child run per node turn, drawn as SVG or Mermaid.

    from forgekit.agents.graph import GraphBuilder, Field
"""

from forgekit.agents.graph.conditions import Condition, Field, Not, OutputMatches, When
from forgekit.agents.graph.diagram import to_mermaid, to_svg
from forgekit.agents.graph.flow import Graph, GraphBuilder, GraphRun
from forgekit.agents.graph.structure import Edge, Node

__all__ = [
    "Condition",
    "Edge",
    "Field",
    "Graph",
    "GraphBuilder",
    "GraphRun",
    "Node",
    "Not",
    "OutputMatches",
    "When",
    "to_mermaid",
    "to_svg",
]

"""The shape of a graph: nodes, edges, and the checks made when it is built.

Rules (AutoGen's GraphFlow rules, with messages that name the node or edge):
- every edge joins two known nodes; node names are unique;
- at least one start node (given, or the nodes without incoming edges);
- a node's outgoing edges are all conditional or all unconditional, never mixed;
- every cycle has at least one conditional edge (its way out), besides `max_iterations`;
- every node can be reached from a start node.
"""

from __future__ import annotations

from typing import Any, Literal

from forgekit.agents.graph.conditions import Condition, as_condition
from forgekit.core.component import Component
from forgekit.core.context import Solver
from forgekit.core.errors import ConfigError

Join = Literal["all", "any"]
InputMode = Literal["task+inputs", "inputs", "task"]


class Node(Component, type="graph_node", kind="graph_part"):
    """A step of a graph: any solver (an agent, a role, a workflow, another graph).

    Args:
        name: unique in the graph.
        solver: what runs.
        join: with several incoming edges, wait for ``all`` that were activated, or run
            on the first (``any``: a race; the other inputs still running are cancelled).
        input: what the node is given: the task and its inputs' outputs (default), only
            the inputs' outputs, or only the task.
    """

    def __init__(self, name: str, solver: Solver, *, join: Join = "all",
                 input: InputMode = "task+inputs") -> None:  # noqa: A002
        if join not in ("all", "any"):
            raise ConfigError(f"node {name!r}: join must be 'all' or 'any', not {join!r}",
                              key=f"nodes.{name}.join")
        if input not in ("task+inputs", "inputs", "task"):
            raise ConfigError(f"node {name!r}: input must be task+inputs, inputs or task",
                              key=f"nodes.{name}.input")
        if not hasattr(solver, "solve"):
            raise ConfigError(f"node {name!r}: {solver!r} is not a solver (no solve())",
                              key=f"nodes.{name}.solver")
        self.name = name
        self.solver = solver
        self.join = join
        self.input = input


class Edge(Component, type="graph_edge", kind="graph_part"):
    """``source -> target``, followed when `when` holds on the source's last output (always,
    when `when` is None)."""

    def __init__(self, source: str, target: str, *, when: Any = None) -> None:
        self.source = source
        self.target = target
        self.when: Condition | None = as_condition(when)

    @property
    def conditional(self) -> bool:
        return self.when is not None

    def label(self) -> str:
        return f"{self.source} -> {self.target}"


def validate(nodes: list[Node], edges: list[Edge], start: list[str] | None) -> list[str]:
    """Check the rules in the module docstring; returns the start nodes."""
    names = [n.name for n in nodes]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"duplicate node name(s): {', '.join(dupes)}", key="nodes")
    if not nodes:
        raise ConfigError("a graph needs at least one node", key="nodes")
    known = set(names)
    for i, e in enumerate(edges):
        for end in (e.source, e.target):
            if end not in known:
                raise ConfigError(f"edge {e.label()} names an unknown node {end!r}; nodes: "
                                  f"{', '.join(names)}", key=f"edges[{i}]")
    seen: set[tuple[str, str]] = set()
    for i, e in enumerate(edges):
        if (e.source, e.target) in seen:
            raise ConfigError(f"edge {e.label()} is given twice; combine the conditions",
                              key=f"edges[{i}]")
        seen.add((e.source, e.target))
    if start:
        for s in start:
            if s not in known:
                raise ConfigError(f"start node {s!r} is not a node", key="start")
        starts = list(start)
    else:
        targets = {e.target for e in edges}
        starts = [n for n in names if n not in targets]
    if not starts:
        raise ConfigError("the graph has no start node: every node has an incoming edge; "
                          "name the entry with start=[...]", key="start")
    for n in names:
        out = [e for e in edges if e.source == n]
        cond = [e.target for e in out if e.conditional]
        plain = [e.target for e in out if not e.conditional]
        if cond and plain:
            raise ConfigError(
                f"node {n!r} mixes conditional edges (to {', '.join(cond)}) and "
                f"unconditional edges (to {', '.join(plain)}); make them all conditional",
                key=f"nodes.{n}",
            )
    for comp in cycles(names, edges):
        inside = [e for e in edges if e.source in comp and e.target in comp]
        if not any(e.conditional for e in inside):
            path = " -> ".join([*sorted(comp, key=names.index), sorted(comp, key=names.index)[0]])
            raise ConfigError(
                f"cycle {path} has no conditional edge: it could only stop at "
                f"max_iterations; give one of its edges a condition (when=...)",
                key=f"edges[{edges.index(inside[0])}]",
            )
    reach = reachable(starts, edges)
    lost = [n for n in names if n not in reach]
    if lost:
        raise ConfigError(f"node(s) {', '.join(lost)} cannot be reached from the start "
                          f"node(s) {', '.join(starts)}", key=f"nodes.{lost[0]}")
    return starts


def reachable(starts: list[str], edges: list[Edge]) -> set[str]:
    seen = set(starts)
    todo = list(starts)
    while todo:
        n = todo.pop()
        for e in edges:
            if e.source == n and e.target not in seen:
                seen.add(e.target)
                todo.append(e.target)
    return seen


def cycles(names: list[str], edges: list[Edge]) -> list[set[str]]:
    """The strongly connected components that hold a cycle (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[set[str]] = []
    counter = [0]
    succ = {n: [e.target for e in edges if e.source == n] for n in names}

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1 or v in succ[v]:
                out.append(comp)

    for n in names:
        if n not in index:
            visit(n)
    return out


def back_edges(starts: list[str], edges: list[Edge]) -> set[tuple[str, str]]:
    """Edges that close a cycle (to a node on the depth-first path from a start node): a
    node entered by one starts a new iteration instead of waiting for a join."""
    succ: dict[str, list[str]] = {}
    for e in edges:
        succ.setdefault(e.source, []).append(e.target)
    back: set[tuple[str, str]] = set()
    done: set[str] = set()
    path: list[str] = []

    def dfs(v: str) -> None:
        path.append(v)
        for w in succ.get(v, []):
            if w in path:
                back.add((v, w))
            elif w not in done:
                dfs(w)
        path.pop()
        done.add(v)

    for s in starts:
        if s not in done:
            dfs(s)
    return back


def describe(edges: list[Edge]) -> dict[str, Any]:
    return {e.label(): (e.when.label() if e.when else None) for e in edges}

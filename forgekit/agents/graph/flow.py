"""`Graph`: a solver that runs other solvers along edges, and `GraphBuilder` to make one.

    b = GraphBuilder("review-loop", max_iterations=3)
    b.node("coder", load_role("coder"))
    b.node("reviewer", reviewer_agent)
    b.edge("coder", "reviewer")
    b.edge("reviewer", "coder", when=Field("passed", equals=False))   # loop back
    graph = b.build()                       # validated here: errors name the node / edge
    answer = graph.run("Write add() in add.py with a test", gw, workspace="ws")
    graph                                   # in a notebook: the diagram, coloured by status

How it runs: the start nodes run first (together). When a node finishes, each outgoing
edge whose condition holds on the node's answer activates its target (several: a
fan-out). A target joining ``all`` waits for every activated forward input; one joining
``any`` runs on the first (a race: the other inputs still running are cancelled). An
edge that closes a cycle starts the target's next iteration. A node never runs more than
`max_iterations` times: the graph then stops and records why. The answer is the output of
the last node that had no edge to follow.

Each node's turn is a child run (tags ``turn``, ``node``, ``visit``); ``graph_node`` notes
record every status change and the edges followed; after each node a checkpoint is
written (see `forgekit.agents.checkpoints`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from forgekit.agents.graph.structure import (
    Edge,
    InputMode,
    Join,
    Node,
    back_edges,
    validate,
)
from forgekit.agents.orchestration import Runnable, Turns
from forgekit.core.component import Component
from forgekit.core.context import RunContext, Solver
from forgekit.core.errors import ConfigError
from forgekit.core.messages import Usage
from forgekit.core.samples import Answer, Sample

TASK = "__task__"


class GraphRun:
    """The live state of one run of a graph: status per node, visits, outputs. Renders
    itself as the graph's diagram coloured by status."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.status: dict[str, str] = {n.name: "pending" for n in graph.nodes}
        self.visits: dict[str, int] = {n.name: 0 for n in graph.nodes}
        self.outputs: dict[str, Answer] = {}
        self.order: list[str] = []  # turn keys in completion order
        self.followed: list[tuple[str, str]] = []
        self.stop_reason: str | None = None

    def _repr_html_(self) -> str:
        from forgekit.agents.graph.diagram import to_svg

        return to_svg(self.graph, self.status, title=self.stop_reason)

    def __repr__(self) -> str:
        return f"GraphRun({self.status})"


class Graph(Runnable, Component, type="graph", kind="solver"):
    """A validated graph of solvers (see the module docstring)."""

    def __init__(self, nodes: list[Node], edges: Sequence[Edge] = (), *,
                 start: list[str] | None = None, max_iterations: int = 10,
                 name: str = "graph") -> None:
        if max_iterations < 1:
            raise ConfigError("max_iterations must be >= 1", key="max_iterations")
        self.nodes = list(nodes)
        self.edges = list(edges)
        self.name = name
        self.max_iterations = max_iterations
        self.starts = validate(self.nodes, self.edges, start)
        self.back = back_edges(self.starts, self.edges)
        self.by_name = {n.name: n for n in self.nodes}
        self.out = {n.name: [e for e in self.edges if e.source == n.name] for n in self.nodes}
        self.forward_in = {
            n.name: [e.source for e in self.edges
                     if e.target == n.name and (e.source, e.target) not in self.back]
            for n in self.nodes
        }
        self.last_run: GraphRun | None = None

    def __repr__(self) -> str:
        return f"Graph({self.name!r}, nodes={[n.name for n in self.nodes]})"

    # -- views -------------------------------------------------------------------------
    def to_mermaid(self, status: dict[str, str] | None = None) -> str:
        from forgekit.agents.graph.diagram import to_mermaid

        return to_mermaid(self, status)

    def _repr_html_(self) -> str:
        from forgekit.agents.graph.diagram import to_svg

        run = self.last_run
        return to_svg(self, run.status if run else None,
                      title=run.stop_reason if run else None)

    # -- running -----------------------------------------------------------------------
    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        run = GraphRun(self)
        self.last_run = run
        turns = Turns(ctx, self, sample, note="graph_node")
        try:
            return await _Execution(self, run, turns, sample).go()
        finally:
            turns.close()


class _Execution:
    def __init__(self, graph: Graph, run: GraphRun, turns: Turns, sample: Sample) -> None:
        self.g = graph
        self.run = run
        self.turns = turns
        self.task = turns.sample
        self.inbox: dict[str, dict[str, Answer | None]] = {n: {} for n in graph.by_name}
        self.looped: dict[str, dict[str, Answer]] = {n: {} for n in graph.by_name}
        self.forced: set[str] = set()
        self.swallow: dict[str, set[str]] = {n: set() for n in graph.by_name}
        self.running: dict[asyncio.Task, str] = {}
        self.ended: list[str] = []  # nodes that finished without an edge to follow
        self.usage = Usage()
        self.cost_usd = 0.0

    def _set(self, node: str, status: str, **data: Any) -> None:
        self.run.status[node] = status
        self.turns.ctx.bus.publish_sync("on_status", self.run)
        if data:
            self.turns.emit(node=node, status=status, **data)

    def _ready(self, n: str) -> bool:
        if n in self.running.values():
            return False
        if self.looped[n] or n in self.forced:
            return True
        got = self.inbox[n]
        if not got:
            return False
        if self.g.by_name[n].join == "any" or TASK in got:
            return True
        return set(self.g.forward_in[n]) <= set(got)

    async def go(self) -> Answer:
        for s in self.g.starts:
            self.inbox[s][TASK] = None
        try:
            while True:
                if not self._launch():
                    break
                if not self.running:
                    partial = [n for n in self.g.by_name if self.inbox[n]]
                    if not partial:
                        break
                    # nothing runs and nothing is ready: the inputs a join still waits for
                    # were never activated (their branch was not taken); join on what came
                    for n in partial:
                        self.forced.add(n)
                        self.turns.emit(node=n, status="join-partial",
                                        waited_for=sorted(set(self.g.forward_in[n])
                                                          - set(self.inbox[n])))
                    continue
                done, _ = await asyncio.wait(self.running, return_when=asyncio.FIRST_COMPLETED)
                order = list(self.g.by_name)
                for t in sorted(done, key=lambda t: order.index(self.running[t])):
                    self._finished(t, self.running.pop(t))
        finally:
            await self._cancel_all()
        return self._answer()

    def _launch(self) -> bool:
        """Start every ready node; False when the graph must stop (max_iterations)."""
        for n in list(self.g.by_name):
            if not self._ready(n):
                continue
            if self.run.visits[n] >= self.g.max_iterations:
                self.run.stop_reason = (
                    f"max_iterations: node {n!r} already ran {self.g.max_iterations} "
                    f"time(s) and was activated again"
                )
                self.turns.emit(node=n, status="stopped", reason=self.run.stop_reason)
                return False
            inputs = {**self.inbox[n], **self.looped[n]}
            self.inbox[n], self.looped[n] = {}, {}
            self.forced.discard(n)
            self.run.visits[n] += 1
            visit = self.run.visits[n]
            node = self.g.by_name[n]
            sample = _node_sample(self.task, node.input, n, inputs)
            key = f"{n}#{visit}"
            task = asyncio.ensure_future(self.turns.turn(
                key, node.solver, sample, label=n, tags={"node": n, "visit": str(visit)}))
            self.running[task] = n
            self._set(n, "running")
            if node.join == "any":
                self._race(n, inputs)
        return True

    def _race(self, n: str, inputs: dict[str, Any]) -> None:
        losers = [s for s in self.g.forward_in[n] if s not in inputs]
        for t, name in list(self.running.items()):
            if name in losers:
                t.cancel()
        # a loser that already finished delivers once more: that delivery is dropped
        self.swallow[n] = {s for s in losers if s not in self.running.values()}

    def _finished(self, t: asyncio.Task, n: str) -> None:
        if t.cancelled():
            self._set(n, "cancelled", reason="lost a race")
            return
        exc = t.exception()
        if exc is not None:
            self._set(n, "failed", error=f"{type(exc).__name__}: {exc}")
            raise exc
        answer: Answer = t.result()
        key = f"{n}#{self.run.visits[n]}"
        self.run.outputs[n] = answer
        self.usage += answer.usage
        self.cost_usd += answer.cost_usd
        self.run.order.append(key)
        taken = [e for e in self.g.out[n] if e.when is None or e.when.holds(answer)]
        self._set(n, "done", key=key, followed=[e.target for e in taken])
        if not taken:
            self.ended.append(n)
        for e in taken:
            self.run.followed.append((n, e.target))
            if n in self.swallow[e.target]:
                self.swallow[e.target].discard(n)
                continue
            if (n, e.target) in self.g.back:
                self.looped[e.target][n] = answer
            else:
                self.inbox[e.target][n] = answer

    async def _cancel_all(self) -> None:
        for t in self.running:
            t.cancel()
        if self.running:
            await asyncio.gather(*self.running, return_exceptions=True)
            for n in self.running.values():
                self.run.status[n] = "cancelled"
        self.running.clear()

    def _answer(self) -> Answer:
        outs = self.run.outputs
        final_node = self.ended[-1] if self.ended else (
            self.run.order[-1].split("#")[0] if self.run.order else None)
        final = outs.get(final_node) if final_node else None
        if self.run.stop_reason is None:
            self.run.stop_reason = (f"completed: {final_node!r} had no edge to follow"
                                    if final_node else "completed: nothing ran")
        self.turns.ctx.bus.publish_sync("on_status", self.run)
        return Answer(
            text=final.text if final else "",
            data=final.data if final else None,
            stop_reason=self.run.stop_reason,
            usage=self.usage,
            cost_usd=self.cost_usd,
            metadata={
                "final_node": final_node,
                "order": list(self.run.order),
                "visits": dict(self.run.visits),
                "outputs": {n: a.text for n, a in outs.items()},
            },
        )


def _node_sample(task: Sample, mode: InputMode, node: str,
                 inputs: dict[str, Answer | None]) -> Sample:
    received = {k: v for k, v in inputs.items() if k != TASK and v is not None}
    parts = []
    if mode != "inputs" or not received:
        parts.append(task.input_text())
    if mode != "task":
        parts += [f"--- output of {src} ---\n{a.text}" for src, a in received.items()]
    return Sample(
        id=task.id,
        input="\n\n".join(parts),
        metadata={**task.metadata, "graph_node": node,
                  "graph_inputs": {k: a.text for k, a in received.items()}},
        task_class=task.task_class,
    )


class GraphBuilder:
    """Builds a `Graph` step by step; `build()` validates it."""

    def __init__(self, name: str = "graph", *, max_iterations: int = 10) -> None:
        self.name = name
        self.max_iterations = max_iterations
        self._nodes: list[Node] = []
        self._edges: list[Edge] = []
        self._start: list[str] | None = None

    def node(self, name: str, solver: Solver, *, join: Join = "all",
             input: InputMode = "task+inputs") -> GraphBuilder:  # noqa: A002
        self._nodes.append(Node(name, solver, join=join, input=input))
        return self

    def edge(self, source: str, target: str, *, when: Any = None) -> GraphBuilder:
        self._edges.append(Edge(source, target, when=when))
        return self

    def fan_out(self, source: str, targets: list[str]) -> GraphBuilder:
        for t in targets:
            self.edge(source, t)
        return self

    def start(self, *names: str) -> GraphBuilder:
        self._start = list(names)
        return self

    def build(self) -> Graph:
        return Graph(self._nodes, self._edges, start=self._start,
                     max_iterations=self.max_iterations, name=self.name)

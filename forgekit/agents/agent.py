"""The agent loop: ask the model, run the tools it calls, feed back observations, stop
when a termination condition says so. An `Agent` is a Solver.

    agent = Agent(model="local", bundles=["files"], policy="headless-safe",
                  termination=MaxSteps(6) | TextMention("DONE"))
    answer = agent.run("What does notes.txt say?", workspace="ws")   # sync, notebook-safe
    answer = await agent.solve(sample, ctx)                           # inside a runner

Every model call goes through `ctx.complete`; every step is a StepEvent (thought / action
/ observation), every tool call a ToolCallEvent with its policy decision; hooks on
`ctx.bus`: on_run_start, on_model_query, on_tool_call, on_step_done, on_run_end.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from forgekit.agents.execution import ToolExecutor
from forgekit.agents.feedback import resolve_feedback
from forgekit.agents.history import HistoryProcessor, apply_history, parse_history
from forgekit.agents.policy import ToolPolicy, resolve_policy
from forgekit.agents.prompts import Prompt
from forgekit.agents.recommend import recommend_tools
from forgekit.agents.structured import StructuredOutputError, complete_structured
from forgekit.agents.termination import (
    AgentState,
    AnyOf,
    FinalAnswer,
    MaxSteps,
    Termination,
    hard_deadline_s,
)
from forgekit.agents.text_tools import parse_text_tool_calls
from forgekit.agents.tool_bundle import Bundle, load_bundle
from forgekit.agents.tools import Tool, ToolEnv, as_tool
from forgekit.core.bus import EventBus
from forgekit.core.component import Component, config_hash, config_of, resolve_ref
from forgekit.core.context import EventSink, MemorySink, ModelClient, RunContext
from forgekit.core.display import LiveDisplay
from forgekit.core.errors import BudgetExceeded, ConfigError
from forgekit.core.events import NoteEvent, RunStart, RunStatus, StepEvent
from forgekit.core.messages import Message, ModelResponse, ToolCall, Usage
from forgekit.core.redact import redact_text
from forgekit.core.samples import Answer, Sample
from forgekit.core.sandbox import SandboxConfig
from forgekit.core.sync import run_sync
from forgekit.core.totals import RunTotals

if TYPE_CHECKING:
    from typing_extensions import TypeIs

HARD_STEP_CAP = 50  # whatever the conditions say, a run never loops forever
SANDBOX_OFF = (
    "tools run WITHOUT the OS sandbox (forgekit.yaml says `sandbox: none`): a command "
    "can change or read anything the forgekit process can"
)


def _sandbox_config(ctx: RunContext) -> SandboxConfig:
    """The project's `sandbox:` section (through the gateway's config), else the default."""
    cfg = getattr(ctx.gateway, "config", None)
    section = getattr(cfg, "sandbox", None)
    return section if isinstance(section, SandboxConfig) else SandboxConfig()


def _bundle(spec: str | Path | Bundle | dict[str, Any]) -> Bundle:
    """A bundle from a name, a folder, a loaded Bundle or ``{name: ..., options: {...}}``."""
    if isinstance(spec, Bundle):
        return spec
    if isinstance(spec, dict):
        extra = set(spec) - {"name", "options"}
        if "name" not in spec or extra:
            raise ConfigError(
                "a bundle given as a mapping has 'name' and optional 'options'; got "
                f"{sorted(spec)}", key="bundles"
            )
        return load_bundle(spec["name"], **(spec.get("options") or {}))
    return load_bundle(spec)


class ToolProvider(Protocol):
    """An object that gives several tools (a `Memory`, an MCP hub)."""

    def tools(self) -> Sequence[Tool]: ...


def _provides_tools(obj: object) -> TypeIs[ToolProvider]:
    return not isinstance(obj, (Tool, str)) and callable(getattr(obj, "tools", None))


class Agent(Component, LiveDisplay, type="agent", kind="solver"):
    """A ReAct-style tool-using agent (see the module docstring).

    It is a component: ``agent.config()`` holds the arguments it was built with (tools by
    import reference, bundles by name, the policy, termination and history as data), and
    ``Agent.from_config(cfg)`` builds an equal agent. A feedback provider and a workspace
    are how an agent is run, not what it is: they are left out of its config.
    """

    raw_args = frozenset({"params"})
    runtime_args = frozenset({"feedback", "workspace"})

    def __init__(
        self,
        model: str | None = None,
        *,
        tools: Sequence[Tool | str | Callable[..., Any] | ToolProvider] = (),
        bundles: Sequence[str | Path | Bundle | dict[str, Any]] = (),
        policy: str | ToolPolicy | dict | None = None,
        termination: Termination | None = None,
        history: Sequence[HistoryProcessor | dict[str, Any]] = (),
        system_prompt: str | Path | Prompt = "system",
        instructions: str | None = None,
        feedback: Any = None,
        recommend_k: int | None = None,
        text_tools: bool | None = None,
        output_schema: type[BaseModel] | str | None = None,
        max_revisions: int = 2,
        parallel_tools: bool = True,
        workspace: str | Path | None = None,
        stop_word: str | None = None,
        name: str = "agent",
        params: dict[str, Any] | None = None,
        mcp: Any = None,
    ) -> None:
        self.name = name
        self.model = model
        self.bundles = [_bundle(b) for b in bundles]
        # a tool provider (an object with .tools(), e.g. a Memory) gives several tools
        self.tools: list[Tool] = [
            tool
            for t in tools
            for tool in (t.tools() if _provides_tools(t) else [as_tool(t)])
        ]
        for b in self.bundles:
            self.tools.extend(b.tools)
        names = [t.name for t in self.tools]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate tool names: {', '.join(dupes)}")
        self.policy = policy
        self.termination = termination or (FinalAnswer() | MaxSteps(10))
        self.history = parse_history(list(history))
        self.system_prompt = Prompt.load(system_prompt)
        self._prompt_ref = (
            str(system_prompt) if not isinstance(system_prompt, Prompt) else system_prompt.name
        )
        self.instructions = instructions
        self.feedback = feedback
        self.recommend_k = recommend_k
        self.text_tools = text_tools
        self.output_schema = (
            resolve_ref(output_schema, key="output_schema")
            if isinstance(output_schema, str) else output_schema
        )
        self.max_revisions = max_revisions
        self.parallel_tools = parallel_tools
        self.workspace = Path(workspace) if workspace is not None else None
        self.stop_word = stop_word
        self.params = dict(params or {})
        # MCP servers' tools: an MCPHub, server names of the project's hub, or True for all
        self.mcp = mcp
        self.last_sink: MemorySink | Any = None

    def __repr__(self) -> str:
        return (
            f"Agent(name={self.name!r}, model={self.model!r}, tools={[t.name for t in self.tools]})"
        )

    def _mcp_hub(self) -> tuple[Any, list[str] | None]:
        from forgekit.agents.mcp.hub import MCPHub, project_hub

        if isinstance(self.mcp, MCPHub):
            return self.mcp, None
        return project_hub(), (None if self.mcp is True else list(self.mcp))

    def _all_tools(self) -> list[Tool]:
        """The native tools plus the MCP servers' current tools (listed at connect and
        again on each server's tools/list_changed)."""
        if not self.mcp:
            return self.tools
        hub, servers = self._mcp_hub()
        tools = [*self.tools, *hub.tools(servers)]
        names = [t.name for t in tools]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError(
                f"MCP tool names {', '.join(dupes)} collide with the agent's own tools; "
                "set a prefix on the MCP server (mcp.servers.<name>.prefix)",
                key="mcp",
            )
        return tools

    # -- set-up --------------------------------------------------------------------------
    def _use_text_tools(self, ctx: RunContext) -> bool:
        if self.text_tools is not None:
            return self.text_tools
        cfg = getattr(ctx.gateway, "config", None)
        if cfg is None:  # a gateway without a project config: assume function calling
            return False
        alias = self.model or ctx.model or getattr(getattr(cfg, "models", None), "default", None)
        try:
            return not cfg.alias(alias).supports_tools
        except Exception:
            return False

    def _system(self, tools: list[Tool], text_mode: bool, workspace: Path | None) -> str:
        text = self.system_prompt.render(
            tools=tools,
            stop_word=self.stop_word,
            workspace=str(workspace) if workspace else None,
            instructions=self.instructions,
        )
        if text_mode and tools:
            text += "\n\n" + Prompt.load("text_tools").render(
                tools=[
                    {"name": t.name, "description": t.description, "parameters": t.parameters()}
                    for t in tools
                ]
            )
        return text

    def _policy(self, ctx: RunContext, workspace: Path | None) -> ToolPolicy:
        """The agent's policy, else the run's, else the project's `policy:` section, else
        the default preset (headless-safe)."""
        if self.policy is not None:
            return resolve_policy(self.policy, workspace=workspace)
        if ctx.policy is not None:
            return resolve_policy(ctx.policy, workspace=workspace)
        cfg = getattr(ctx.gateway, "config", None)
        section = getattr(cfg, "policy", None)
        if isinstance(section, dict) and section:
            return ToolPolicy.from_dict(
                section, workspace=workspace, source=getattr(cfg, "source", None)
            )
        return resolve_policy(None, workspace=workspace)

    # -- the loop ------------------------------------------------------------------------
    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        """Run the loop on one sample (the Solver protocol). Without a workspace, an
        agent with tools works in a scratch folder that is removed afterwards (and
        recorded as ``"(temporary)"``, so replays of the run compare equal)."""
        workspace = self.workspace or ctx.workspace
        if workspace is not None or not (self.tools or self.mcp):
            return await self._solve(sample, ctx, Path(workspace) if workspace else None, False)
        scratch = Path(tempfile.mkdtemp(prefix="forgekit-ws-"))
        try:
            return await self._solve(sample, ctx, scratch, True)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    async def _solve(
        self, sample: Sample, ctx: RunContext, workspace: Path | None, scratch: bool
    ) -> Answer:
        workspace = workspace.resolve() if workspace else None
        if workspace is not None:
            workspace.mkdir(parents=True, exist_ok=True)
            for rel, content in sample.files.items():
                target = (workspace / rel).resolve()
                if workspace in target.parents:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(content, encoding="utf-8")
        policy = self._policy(ctx, workspace)
        feedback = resolve_feedback(self.feedback, policy.config.ask_default)
        task = sample.input_text()
        all_tools = self._all_tools()
        tools = all_tools
        if self.recommend_k and len(tools) > self.recommend_k:
            tools = recommend_tools(task, tools, self.recommend_k)
        by_name = {t.name: t for t in all_tools}
        text_mode = self._use_text_tools(ctx)
        messages = [Message.system(self._system(tools, text_mode, workspace))]
        messages += (
            [Message.user(sample.input)] if isinstance(sample.input, str) else list(sample.input)
        )
        openai_tools = [t.to_openai() for t in tools] if tools and not text_mode else None
        sandbox = _sandbox_config(ctx)
        env = ToolEnv(workspace=workspace or Path.cwd(), policy=policy, run=ctx, sandbox=sandbox)
        executor = ToolExecutor(by_name, policy, feedback, env, ctx, self.parallel_tools)
        state = AgentState()
        stop = AnyOf([self.termination, MaxSteps(HARD_STEP_CAP)])
        stop.reset()
        if self.termination is not stop:
            self.termination.reset()
        ctx.emit(
            NoteEvent(
                kind="agent_start",
                data={
                    "tools": [t.name for t in tools],
                    "text_tools": text_mode,
                    "policy": policy.name,
                    "workspace": "(temporary)" if scratch else (
                        str(workspace) if workspace else None
                    ),
                },
            )
        )
        if sandbox.mode == "none" and any(t.effect == "exec" for t in tools):
            ctx.emit(NoteEvent(kind="warning", data={"sandbox": "none", "message": SANDBOX_OFF}))
        await ctx.bus.publish("on_run_start", agent=self, sample=sample, ctx=ctx)
        stop_reason: str | None = None
        last_text = ""
        tool_calls = 0
        deadline = hard_deadline_s(stop)
        timer = asyncio.timeout(deadline)
        try:
            async with timer:
                while stop_reason is None:
                    state.steps += 1
                    view = apply_history(self.history, messages)
                    resp = await ctx.complete(
                        view, model=self.model, tools=openai_tools, **self.params
                    )
                    state.input_tokens += resp.usage.input_tokens
                    state.output_tokens += resp.usage.output_tokens
                    state.cost_usd += resp.cost_usd
                    calls, parse_errors = self._calls(resp, text_mode)
                    messages.append(
                        Message.assistant(resp.text or None, calls or None)
                        if not text_mode
                        else Message.assistant(resp.text)
                    )
                    results = await executor.run(calls)
                    tool_calls += len(calls)
                    observations = [
                        f"{c.name}: {r if e is None else 'ERROR: ' + e}"
                        for c, (r, e) in zip(calls, results, strict=True)
                    ]
                    observations += [f"ERROR: {e}" for e in parse_errors]
                    self._append_observations(messages, calls, results, parse_errors, text_mode)
                    if resp.text.strip():
                        last_text = resp.text
                    state.last_text = resp.text
                    state.last_results = [
                        (c.name, r or "", e) for c, (r, e) in zip(calls, results, strict=True)
                    ]
                    state.final = not calls and not parse_errors
                    action = "; ".join(f"{c.name}({c.arguments_json()})" for c in calls) or None
                    state.actions.append(action or "")
                    obs_text = "\n".join(observations) or None
                    if obs_text:
                        state.observations.append(obs_text)
                    step = ctx.emit(
                        StepEvent(
                            step=state.steps,
                            thought=redact_text(resp.text) or None,
                            action=action,
                            observation=redact_text(obs_text) if obs_text else None,
                            cost_usd=resp.cost_usd,
                            latency_s=resp.latency_s,
                            tokens=resp.usage.total_tokens,
                        )
                    )
                    await ctx.bus.publish("on_step_done", step, state)
                    stop_reason = stop.check(state)
                    if stop_reason is None and state.final:
                        messages.append(
                            Message.user(
                                "Continue the task: call a tool"
                                + (f", or finish with {self.stop_word}." if self.stop_word else ".")
                            )
                        )
        except TimeoutError:
            if not timer.expired():
                raise
            stop_reason = (
                f"timeout: {state.elapsed_s:.1f}s >= {deadline:g}s "
                f"(interrupted during step {state.steps})"
            )
        except BudgetExceeded as e:
            stop_reason = f"budget_exceeded: {e}"
        answer_text = last_text
        if self.stop_word:
            answer_text = answer_text.replace(self.stop_word, "").strip()
        data = None
        # no structured-output call after the budget or the time ran out
        if self.output_schema is not None and not (
            stop_reason.startswith("budget_exceeded") or timer.expired()
        ):
            try:
                data = await complete_structured(
                    ctx,
                    messages,
                    self.output_schema,
                    max_revisions=self.max_revisions,
                    model=self.model,
                    **self.params,
                )
                answer_text = data.model_dump_json()
            except StructuredOutputError as e:
                stop_reason = f"{stop_reason}; structured output failed: {e}"
        answer = Answer(
            text=answer_text.strip(),
            data=data,
            messages=messages,
            stop_reason=stop_reason,
            usage=Usage(input_tokens=state.input_tokens, output_tokens=state.output_tokens),
            cost_usd=state.cost_usd,
            metadata={"steps": state.steps, "tool_calls": tool_calls},
        )
        ctx.emit(
            NoteEvent(kind="agent_stop", data={"stop_reason": stop_reason, "steps": state.steps})
        )
        await ctx.bus.publish("on_run_end", answer)
        return answer

    def _calls(self, resp: ModelResponse, text_mode: bool) -> tuple[list[ToolCall], list[str]]:
        if not text_mode:
            calls = list(resp.tool_calls)
            errors: list[str] = []
        else:
            calls, errors = parse_text_tool_calls(resp.text)
        seen: set[str] = set()
        for i, c in enumerate(calls):  # ids must be unique for the tool messages
            if not c.id or c.id in seen:
                calls[i] = c.model_copy(update={"id": f"call_{len(seen)}_{i}"})
            seen.add(calls[i].id)
        return calls, errors

    def _append_observations(
        self,
        messages: list[Message],
        calls: list[ToolCall],
        results: list[tuple[str | None, str | None]],
        parse_errors: list[str],
        text_mode: bool,
    ) -> None:
        if not text_mode:
            for c, (r, e) in zip(calls, results, strict=True):
                text = f"ERROR: {e}" if e is not None else r or ""
                messages.append(Message.tool(text, c.id, c.name))
            if parse_errors:
                messages.append(Message.user("\n".join(f"ERROR: {e}" for e in parse_errors)))
            return
        parts = [
            f"Observation from {c.name}:\n{r if e is None else 'ERROR: ' + e}"
            for c, (r, e) in zip(calls, results, strict=True)
        ]
        parts += [f"ERROR: {e}. Send the call again as a JSON block." for e in parse_errors]
        if parts:
            messages.append(Message.user("\n\n".join(parts)))

    def trajectory(self) -> Any:
        """The last run's `forgekit.trajectory.Trajectory` (renders itself in a notebook)."""
        from forgekit.trajectory import Trajectory

        sink = self.last_sink
        if sink is None:
            raise ValueError("the agent has not run yet")
        path = getattr(sink, "path", None)
        return Trajectory.load(path) if path is not None else Trajectory.from_sink(sink)

    # -- sync edge -----------------------------------------------------------------------
    def run(
        self,
        task: str | Sample,
        gateway: ModelClient | None = None,
        *,
        workspace: str | Path | None = None,
        sink: EventSink | None = None,
        model: str | None = None,
        bus: EventBus | None = None,
    ) -> Answer:
        """Run one task synchronously (works inside a running notebook loop).

        Without a gateway, one is built from the project config and closed afterwards.
        Events go to `sink` (default: a new MemorySink, kept as `self.last_sink`); the run
        ends with a RunEnd carrying the stop reason.
        """
        return run_sync(
            self.arun(task, gateway, workspace=workspace, sink=sink, model=model, bus=bus)
        )

    async def arun(
        self,
        task: str | Sample,
        gateway: ModelClient | None = None,
        *,
        workspace: str | Path | None = None,
        sink: EventSink | None = None,
        model: str | None = None,
        bus: EventBus | None = None,
    ) -> Answer:
        """Async form of `run`."""
        owned = gateway is None
        if gateway is None:
            from forgekit.core.config import load_config
            from forgekit.models import Gateway

            gateway = Gateway(load_config())
        sample = task if isinstance(task, Sample) else Sample(id="task", input=task)
        if sink is None:
            sink = MemorySink()
            sink.emit(
                RunStart(
                    solver=self.name,
                    config=config_of(self),
                    config_hash=config_hash(self),
                    models=[model or self.model or ""],
                    sample_id=sample.id,
                )
            )
        ctx = RunContext(
            gateway=gateway,
            sink=sink,
            model=model or self.model,
            sample=sample,
            workspace=Path(workspace) if workspace else None,
        )
        if bus is not None:
            ctx.bus = bus
        self.last_sink = sink
        try:
            answer = await self.solve(sample, ctx)
        except BaseException as e:
            interrupted = isinstance(e, (KeyboardInterrupt, asyncio.CancelledError))
            _finish(
                ctx,
                None,
                status="interrupted" if interrupted else "failed",
                error=f"{type(e).__name__}: {e}",
            )
            raise
        finally:
            if owned and hasattr(gateway, "close"):
                gateway.close()
        status: RunStatus = (
            "budget-exceeded" if (answer.stop_reason or "").startswith("budget") else "completed"
        )
        _finish(ctx, answer, status=status)
        return answer


def _finish(
    ctx: RunContext, answer: Answer | None, *, status: RunStatus, error: str | None = None
) -> None:
    stop_reason = answer.stop_reason if answer else None
    if callable(getattr(ctx.sink, "finish", None)):  # a Recorder computes its own totals
        ctx.end(answer, status=status, error=error, stop_reason=stop_reason)
        return
    # any other sink: the totals of the events it holds, counted as a Recorder counts them
    totals = RunTotals.of(getattr(ctx.sink, "events", []))
    ctx.end(answer, status=status, error=error, stop_reason=stop_reason,
            **totals.run_end_fields())

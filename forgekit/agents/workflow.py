"""`Workflow`: plan → approve → execute → review → deliver, as one Solver.

    wf = Workflow(planner="planner", executor="coder", reviewer=Checks("python -m pytest -q"),
                  approval="ask", deliver="diff", max_review_rounds=2)
    wf.with_approver(lambda request: True)          # CLI, a notebook widget, any callback
    answer = wf.run("Add a slugify() function with tests", gw, workspace="ws", runs_dir="runs")
    answer.data["diff"]                              # the workspace's changes

- **plan**: the planner (a role name, a Role, or any solver) returns a `Plan` (steps with
  dependencies and roles, acceptance criteria, estimated cost). ``planner=None`` skips it:
  a fixed ``plan=`` is used, or a one-step plan "do the task".
- **approve**: ``approval="auto"`` approves (recorded), ``"deny"`` refuses (a headless
  dry run), ``"ask"`` asks the human-feedback provider (`with_approver`, or
  ``feedback="cli"``; without one, headless: deny). An approval may edit the plan
  (``Approval.arguments`` = the edited plan, validated again). A rejection ends the run
  with the reason. ``"skip"`` records nothing.
- **execute**: the plan's steps in dependency order, each a turn of its role (or the
  `executor`), given the task, the plan, its step and the results so far.
- **review**: the `reviewer` (a role: its answer is asked as a `Review`; `Checks`: run the
  workspace's tests) judges the work; on failure the executor gets the feedback in a fix
  turn and the review runs again, up to `max_review_rounds` fixes. ``reviewer=None`` skips.
- **deliver**: ``"answer"`` (the last turn's text), ``"diff"`` (a unified diff of the
  workspace against the snapshot taken before execution) or ``"files"`` (the changed
  files' contents); all three are in ``answer.data`` whatever is chosen.

Every turn is a child run and a checkpoint (see `forgekit.agents.checkpoints`); an
approval is checkpointed once answered, so a resumed run asks again.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from forgekit.agents.delivery import changed_files, snapshot, unified_diff
from forgekit.agents.orchestration import Runnable, Turns
from forgekit.agents.plans import Plan, PlanStep, Review, from_answer
from forgekit.core.component import Component
from forgekit.core.context import RunContext, Solver
from forgekit.core.errors import ConfigError
from forgekit.core.messages import Usage
from forgekit.core.samples import Answer, Sample

ApprovalMode = Literal["auto", "ask", "deny", "skip"]
Delivery = Literal["answer", "diff", "files"]
STAGES = ("plan", "approve", "execute", "review", "deliver")


def resolve_solver(spec: Any, *, what: str) -> Any:
    """A role name / role file → its Role; a solver as is; None stays None."""
    if spec is None or hasattr(spec, "solve"):
        return spec
    if isinstance(spec, str):
        from forgekit.agents.roles import load_role

        return load_role(spec)
    raise ConfigError(f"{what}: {spec!r} is neither a role name nor a solver", key=what)


class Structured:
    """Runs a solver asking for `schema`: a role's (or agent's) agent gets it as its
    output schema; another solver's answer is parsed afterwards."""

    def __init__(self, solver: Solver, schema: type, max_revisions: int = 2) -> None:
        self.solver = solver
        self.schema = schema
        self.max_revisions = max_revisions
        self.name = getattr(solver, "name", "solver")

    def config(self) -> dict[str, Any]:
        from forgekit.agents.orchestration import safe_config

        return safe_config(self.solver)

    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        from forgekit.agents.agent import Agent
        from forgekit.agents.roles import Role

        solver = self.solver
        if isinstance(solver, Role):
            sample = solver.routed(sample)
            solver = solver.agent(output_schema=self.schema)
            solver.max_revisions = self.max_revisions
        elif isinstance(solver, Agent) and solver.output_schema is None:
            solver = copy.copy(solver)
            solver.output_schema = self.schema
            solver.max_revisions = self.max_revisions
        return await solver.solve(sample, ctx)


class WorkflowRun:
    """The live state of one workflow run: status per stage, the plan, review rounds."""

    def __init__(self) -> None:
        self.stages: dict[str, str] = {s: "pending" for s in STAGES}
        self.plan: Plan | None = None
        self.steps: dict[str, str] = {}
        self.reviews: list[Review] = []
        self.stop_reason: str | None = None

    def __repr__(self) -> str:
        return f"WorkflowRun({self.stages})"

    def _repr_html_(self) -> str:
        import html

        cells = "".join(
            f'<td style="padding:4px 10px;background:{_COLOR.get(st, "#eee")}">'
            f"{s}<br><small>{st}</small></td>" for s, st in self.stages.items())
        steps = "".join(f"<li>{html.escape(k)}: {v}</li>" for k, v in self.steps.items())
        reason = f"<div>{html.escape(self.stop_reason)}</div>" if self.stop_reason else ""
        return f'<table class="forgekit-workflow"><tr>{cells}</tr></table><ul>{steps}</ul>{reason}'


_COLOR = {"running": "#ffe08a", "done": "#b7e1a1", "skipped": "#e0e0e0", "failed": "#f4a3a3",
          "rejected": "#f4a3a3", "pending": "#f3f3f3"}


class Workflow(Runnable, Component, type="workflow", kind="solver"):
    """plan → approve → execute → review → deliver (see the module docstring)."""

    def __init__(
        self,
        *,
        planner: Any = "planner",
        executor: Any = "coder",
        roles: dict[str, Any] | None = None,
        reviewer: Any = "reviewer",
        approval: ApprovalMode = "auto",
        feedback: str | None = None,
        max_review_rounds: int = 2,
        deliver: Delivery = "answer",
        plan: Plan | dict | None = None,
        max_revisions: int = 2,
        name: str = "workflow",
    ) -> None:
        if approval not in ("auto", "ask", "deny", "skip"):
            raise ConfigError(f"approval must be auto, ask, deny or skip, not {approval!r}",
                              key="approval")
        if deliver not in ("answer", "diff", "files"):
            raise ConfigError(f"deliver must be answer, diff or files, not {deliver!r}",
                              key="deliver")
        if max_review_rounds < 0:
            raise ConfigError("max_review_rounds must be >= 0", key="max_review_rounds")
        self.name = name
        self.planner = resolve_solver(planner, what="planner")
        self.executor = resolve_solver(executor, what="executor")
        if self.executor is None:
            raise ConfigError("a workflow needs an executor (a role name or a solver)",
                              key="executor")
        self.roles = {k: resolve_solver(v, what=f"roles.{k}") for k, v in (roles or {}).items()}
        self.reviewer = resolve_solver(reviewer, what="reviewer")
        self.approval = approval
        self.feedback = feedback
        self.max_review_rounds = max_review_rounds
        self.deliver = deliver
        self.fixed_plan = Plan.model_validate(plan) if isinstance(plan, dict) else plan
        # how often an invalid plan / review is sent back to its role for revision
        self.max_revisions = max_revisions
        self.approver: Any = None
        self.last_run: WorkflowRun | None = None

    def with_approver(self, approver: Any) -> Workflow:
        """Who answers ``approval="ask"``: a feedback provider or a function of the
        `ApprovalRequest` (sync or async) returning bool, (bool, reason) or an `Approval`.
        Not part of the config (a person is not configuration)."""
        self.approver = approver
        return self

    def __repr__(self) -> str:
        return f"Workflow({self.name!r}, approval={self.approval!r}, deliver={self.deliver!r})"

    def _repr_html_(self) -> str:
        return self.last_run._repr_html_() if self.last_run else f"<pre>{self!r}</pre>"

    def role_for(self, step: PlanStep) -> Any:
        if step.role and step.role in self.roles:
            return self.roles[step.role]
        return self.executor

    # -- the run ---------------------------------------------------------------------------
    async def solve(self, sample: Sample, ctx: RunContext) -> Answer:
        run = WorkflowRun()
        self.last_run = run
        turns = Turns(ctx, self, sample, note="workflow_step")
        try:
            return await _WorkflowExecution(self, run, turns).go()
        finally:
            turns.close()


class _WorkflowExecution:
    def __init__(self, wf: Workflow, run: WorkflowRun, turns: Turns) -> None:
        self.wf, self.run, self.turns = wf, run, turns
        self.task = turns.sample.input_text()
        self.usage = Usage()
        self.cost_usd = 0.0

    def _stage(self, stage: str, status: str, **data: Any) -> None:
        self.run.stages[stage] = status
        self.turns.ctx.bus.publish_sync("on_status", self.run)
        self.turns.emit(stage=stage, status=status, **data)

    async def _turn(self, key: str, solver: Solver, text: str, **tags: str) -> Answer:
        sample = self.turns.sample.model_copy(update={"input": text})
        answer = await self.turns.turn(key, solver, sample, tags=tags)
        self.usage += answer.usage
        self.cost_usd += answer.cost_usd
        return answer

    def _end(self, text: str, reason: str, **data: Any) -> Answer:
        self.run.stop_reason = reason
        self.turns.ctx.bus.publish_sync("on_status", self.run)
        plan = self.run.plan
        return Answer(text=text, stop_reason=reason, usage=self.usage, cost_usd=self.cost_usd,
                      data={"plan": plan.model_dump() if plan else None, **data},
                      metadata={"stages": dict(self.run.stages), "steps": dict(self.run.steps),
                                "review_rounds": len(self.run.reviews)})

    async def go(self) -> Answer:
        plan = await self._plan()
        if plan is None:
            return self._end("", self.run.stop_reason or "planning failed")
        self.run.plan = plan
        approved, reason, plan = await self._approve(plan)
        if not approved:
            return self._end("", f"plan rejected: {reason}", approved=False)
        self.run.plan = plan
        before = await self._snapshot()
        last = await self._execute(plan)
        passed, last = await self._review(plan, last)
        after = snapshot(self.turns.workspace)
        self._stage("deliver", "running")
        files = changed_files(before, after)
        diff = unified_diff(before, after)
        text = {"answer": last.text, "diff": diff,
                "files": "\n".join(files) or "(no files changed)"}[self.wf.deliver]
        self._stage("deliver", "done", deliver=self.wf.deliver, files=sorted(files))
        reason = "completed" if passed else (
            f"review failed after {self.wf.max_review_rounds} fix round(s): "
            f"{self.run.reviews[-1].feedback[:300]}")
        return self._end(text, reason, approved=True, passed=passed, diff=diff, files=files,
                         review=self.run.reviews[-1].model_dump() if self.run.reviews else None)

    # -- stages ----------------------------------------------------------------------------
    async def _plan(self) -> Plan | None:
        wf = self.wf
        if wf.planner is None:
            self._stage("plan", "skipped")
            return wf.fixed_plan or Plan(goal=self.task, steps=[
                PlanStep(id="do", description="Do the task.")])
        self._stage("plan", "running")
        prompt = (f"Task:\n{self.task}\n\nMake a plan for this task. Roles you may assign "
                  f"steps to: {', '.join(wf.roles) or '(only the default executor)'}.")
        answer = await self._turn("plan#1", Structured(wf.planner, Plan, wf.max_revisions),
                                  prompt, stage="plan")
        try:
            plan = from_answer(answer, Plan)
        except ValueError as e:
            self._stage("plan", "failed", error=str(e)[:500])
            self.run.stop_reason = f"planning failed: the planner gave no valid plan: {e}"
            return None
        self._stage("plan", "done", steps=[s.id for s in plan.steps],
                    estimated_cost_usd=plan.estimated_cost_usd)
        return plan

    async def _approve(self, plan: Plan) -> tuple[bool, str, Plan]:
        from forgekit.agents.feedback import (
            Approval,
            ApprovalRequest,
            HeadlessFeedback,
            resolve_feedback,
        )

        mode = self.wf.approval
        if mode == "skip":
            self._stage("approve", "skipped")
            return True, "approval skipped by config", plan
        log = self.turns.log
        entry = log.restore("approve#1")
        if entry is not None:
            approval = Approval.model_validate(entry.answer.data)
            self.turns.emit(key="approve#1", status="restored", from_run=entry.run_id)
        else:
            self._stage("approve", "running")
            if mode == "auto":
                approval = Approval(approved=True, reason="auto-approved by config")
            else:
                provider = (HeadlessFeedback("deny") if mode == "deny" else
                            resolve_feedback(self.wf.approver or self.wf.feedback, "deny"))
                request = ApprovalRequest(
                    tool="workflow.plan", arguments=plan.model_dump(mode="json"),
                    reason=f"approve the plan of {self.wf.name!r} before it runs",
                )
                # an interruption here leaves no checkpoint: a resumed run asks again
                approval = await provider.approve(request)
            log.save("approve#1", Answer(text="approved" if approval.approved else "rejected",
                                         data=approval.model_dump(mode="json")), None)
        if approval.approved and approval.arguments:
            try:
                plan = Plan.model_validate(approval.arguments)
            except ValueError as e:
                approval = Approval(approved=False, reason=f"the edited plan is invalid: {e}")
        status = "done" if approval.approved else "rejected"
        self._stage("approve", status, approved=approval.approved, reason=approval.reason,
                    edited=bool(approval.arguments))
        return approval.approved, approval.reason, plan

    async def _snapshot(self) -> dict[str, str]:
        # taken once per run and checkpointed: a resumed run diffs against the original
        entry = self.turns.log.restore("snapshot#1")
        if entry is not None:
            self.turns.emit(key="snapshot#1", status="restored", from_run=entry.run_id)
            return dict(entry.answer.data or {})
        files = snapshot(self.turns.workspace)
        self.turns.log.save("snapshot#1", Answer(text=f"{len(files)} files", data=files), None)
        return files

    def _context(self, plan: Plan, results: dict[str, str]) -> str:
        done = "\n".join(f"- [{k}] {v[:1500]}" for k, v in results.items())
        return (f"Task:\n{self.task}\n\nPlan:\n{plan.text()}"
                + (f"\n\nResults so far:\n{done}" if done else ""))

    async def _execute(self, plan: Plan) -> Answer:
        self._stage("execute", "running")
        results: dict[str, str] = {}
        last = Answer()
        for step in plan.ordered():
            self.run.steps[step.id] = "running"
            text = (self._context(plan, results)
                    + f"\n\nYour step now: [{step.id}] {step.description}")
            last = await self._turn(f"step:{step.id}#1", self.wf.role_for(step), text,
                                    stage="execute", step=step.id)
            results[step.id] = last.text
            self.run.steps[step.id] = "done"
        self.results = results
        self._stage("execute", "done")
        return last

    async def _review(self, plan: Plan, last: Answer) -> tuple[bool, Answer]:
        wf = self.wf
        if wf.reviewer is None:
            self._stage("review", "skipped")
            return True, last
        for round_ in range(1, wf.max_review_rounds + 2):
            self._stage("review", "running", round=round_)
            text = (self._context(plan, self.results)
                    + "\n\nReview the work in the workspace against the task and the acceptance "
                      "criteria. Say whether it passes and, if not, exactly what to fix.")
            answer = await self._turn(f"review#{round_}",
                                      Structured(wf.reviewer, Review, wf.max_revisions), text,
                                      stage="review", round=str(round_))
            try:
                review = from_answer(answer, Review)
            except ValueError as e:  # a reviewer's unreadable verdict is a fail, not a crash
                review = Review(passed=False, feedback=f"the review could not be read ({e}); "
                                                       f"it said: {answer.text[:1000]}")
            self.run.reviews.append(review)
            if review.passed:
                self._stage("review", "done", round=round_, passed=True)
                return True, last
            if round_ > wf.max_review_rounds:
                self._stage("review", "failed", round=round_, passed=False)
                return False, last
            self._stage("review", "fixing", round=round_, passed=False)
            fix = (self._context(plan, self.results)
                   + f"\n\nThe review did not pass. Fix this:\n{review.feedback}")
            last = await self._turn(f"fix#{round_}", wf.executor, fix, stage="fix",
                                    round=str(round_))
            self.results[f"fix{round_}"] = last.text
        return False, last

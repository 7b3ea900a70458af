"""The structured records of a workflow: the plan a planner returns and a review's verdict."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from forgekit.core.component import register_component
from forgekit.core.samples import Answer


class PlanStep(BaseModel):
    """One step: what to do, who does it (a role name; None: the workflow's executor)
    and which steps must be done first."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    description: str = Field(min_length=1)
    role: str | None = None
    depends_on: list[str] = Field(default_factory=list)


class Plan(BaseModel):
    """A planner's output: steps with dependencies, acceptance criteria, estimated cost."""

    model_config = ConfigDict(extra="forbid")

    goal: str = ""
    steps: list[PlanStep] = Field(min_length=1)
    acceptance_criteria: list[str] = Field(default_factory=list)
    estimated_cost_usd: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        ids = [s.id for s in self.steps]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate step id(s): {', '.join(dupes)}")
        for s in self.steps:
            unknown = [d for d in s.depends_on if d not in ids]
            if unknown:
                raise ValueError(f"step {s.id!r} depends on unknown step(s) {', '.join(unknown)}")
        self.ordered()  # raises on a dependency cycle
        return self

    def ordered(self) -> list[PlanStep]:
        """The steps in an order that respects `depends_on` (plan order among equals)."""
        done: list[str] = []
        left = list(self.steps)
        while left:
            ready = [s for s in left if all(d in done for d in s.depends_on)]
            if not ready:
                raise ValueError("steps depend on each other in a cycle: "
                                 + ", ".join(s.id for s in left))
            done.append(ready[0].id)
            left.remove(ready[0])
        by_id = {s.id: s for s in self.steps}
        return [by_id[i] for i in done]

    def text(self) -> str:
        lines = [f"Goal: {self.goal}"] if self.goal else []
        for i, s in enumerate(self.ordered(), 1):
            extra = []
            if s.role:
                extra.append(f"role: {s.role}")
            if s.depends_on:
                extra.append(f"after: {', '.join(s.depends_on)}")
            lines.append(f"{i}. [{s.id}] {s.description}"
                         + (f" ({'; '.join(extra)})" if extra else ""))
        if self.acceptance_criteria:
            lines.append("Acceptance criteria:")
            lines += [f"- {c}" for c in self.acceptance_criteria]
        return "\n".join(lines)


class Review(BaseModel):
    """A review's verdict: passed or not, and what to fix."""

    model_config = ConfigDict(extra="forbid")

    passed: bool
    feedback: str = ""


register_component(Plan, type="plan", kind="data")


def from_answer(answer: Answer, schema: type[Any]) -> Any:
    """`schema` from an answer's data (a model or a dict, e.g. restored from a checkpoint)
    or its text (JSON); raises ValueError saying what is wrong."""
    from forgekit.agents.structured import parse_structured

    data = answer.data
    if isinstance(data, schema):
        return data
    if isinstance(data, dict):
        from pydantic import ValidationError

        try:
            return schema.model_validate(data)
        except ValidationError as e:
            raise ValueError(str(e)) from None
    return parse_structured(answer.text, schema)

"""Triggers other than time, written in a job file beside `schedule:`.

```yaml
watch:   {paths: [datasets], patterns: ["*.jsonl"], debounce_s: 2}
webhook: {path: /hooks/nightly, secret_env: NIGHTLY_HOOK_SECRET}
after:   {job: build-index, on: success}
when_up: {url: "http://127.0.0.1:8080/health", every_s: 60}
```

Each key takes one trigger or a list of them, so a job may have several of a kind. Every
trigger fires through the scheduler, so the job's overlap policy, retries and the
trigger's `jitter_s` apply to it as to a cron slot.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from forgekit.core.errors import ConfigError

if TYPE_CHECKING:
    from forgekit.pipelines.job import JobSpec

TriggerKind = Literal["watch", "webhook", "after", "when_up"]


class WatchTrigger(BaseModel):
    """Run when files under `paths` that match `patterns` are created, changed or deleted.

    Changes are gathered until none came for `debounce_s` seconds; then the job runs once
    with the changed paths (absolute, sorted) in the notebook parameter named `param`.
    """

    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(min_length=1)
    patterns: list[str] = Field(default_factory=lambda: ["*"])
    debounce_s: float = Field(default=2.0, gt=0)
    param: str | None = Field(default="changed_paths", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    jitter_s: float = Field(default=0.0, ge=0)

    def describe(self) -> str:
        pats = ",".join(self.patterns)
        return f"watch {','.join(self.paths)} ({pats}, {self.debounce_s:g}s)"


class WebhookTrigger(BaseModel):
    """Run on a signed POST to `path` on the scheduler's loopback HTTP endpoint.

    The body (a JSON object) becomes the run's parameters; the signature is
    `X-Forgekit-Signature: sha256=<hex HMAC-SHA256 of the body>` keyed with the value of
    the environment variable `secret_env` (GitHub's `X-Hub-Signature-256` is accepted too).
    """

    model_config = ConfigDict(extra="forbid")

    path: str = Field(pattern=r"^/[A-Za-z0-9_./-]*$")
    secret_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    jitter_s: float = Field(default=0.0, ge=0)

    def describe(self) -> str:
        return f"webhook POST {self.path}"


class AfterTrigger(BaseModel):
    """Run when another job's run (after its retries) ends: `on` success, failure or any."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    job: str
    on: Literal["success", "failure", "any"] = "success"
    jitter_s: float = Field(default=0.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: Any) -> Any:
        # YAML 1.1 reads a bare `on:` key as the boolean true
        if isinstance(data, dict) and True in data and "on" not in data:
            data = {("on" if k is True else k): v for k, v in data.items()}
        return data

    def matches(self, status: str) -> bool:
        if status in ("skipped", "interrupted"):
            return False
        ok = status == "completed"
        return self.on == "any" or (self.on == "success") == ok

    def describe(self) -> str:
        return f"after {self.job} ({self.on})"


class WhenUpTrigger(BaseModel):
    """Run when `url` turns healthy (a 2xx answer after a failure or an error).

    Checked every `every_s` seconds. The first check only learns the state: an endpoint
    that is already up when the scheduler starts does not fire.
    """

    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://")
    every_s: float = Field(default=60.0, gt=0)
    timeout_s: float = Field(default=5.0, gt=0)
    jitter_s: float = Field(default=0.0, ge=0)

    def describe(self) -> str:
        return f"when_up {self.url} (every {self.every_s:g}s)"


AnyTrigger = WatchTrigger | WebhookTrigger | AfterTrigger | WhenUpTrigger


def as_list(value: Any) -> Any:
    """A trigger key takes one mapping or a list of them."""
    return [value] if isinstance(value, dict) else value


def job_triggers(job: JobSpec) -> list[tuple[str, AnyTrigger]]:
    """(id, trigger) of every trigger of a job, ids like `watch[0]` (stable per file)."""
    out: list[tuple[str, AnyTrigger]] = []
    for kind in ("watch", "webhook", "after", "when_up"):
        for i, t in enumerate(getattr(job, kind)):
            out.append((f"{kind}[{i}]", t))
    return out


def check_after_graph(jobs: list[JobSpec]) -> None:
    """Every `after` names a loaded job and the `after` links form no cycle.

    Raises:
        ConfigError: naming the file and line of the bad `after`, and for a cycle the
            jobs in it (`a -> b -> a`).
    """
    by_name = {j.name: j for j in jobs}
    for j in jobs:
        for i, t in enumerate(j.after):
            if t.job not in by_name:
                known = ", ".join(sorted(by_name)) or "(none)"
                raise ConfigError(
                    f"after: job {t.job!r} is not among the loaded jobs ({known})",
                    file=j.source,
                    line=_line_of(j, ("after",)),
                    key=f"after[{i}].job" if len(j.after) > 1 else "after.job",
                )
    # a job runs after the jobs it names: edges name -> upstream
    state: dict[str, int] = {}  # 1 = on the path, 2 = done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for t in by_name[name].after:
            up = t.job
            if state.get(up) == 1:
                cycle = path[path.index(up) :] + [up]
                # print it in run order: upstream first
                chain = " -> ".join(reversed(cycle))
                j = by_name[name]
                raise ConfigError(
                    f"`after` triggers form a cycle: {chain} (a job would trigger itself); "
                    "remove one of these `after` links",
                    file=j.source,
                    line=_line_of(j, ("after",)),
                    key="after",
                )
            if state.get(up) is None:
                visit(up)
        path.pop()
        state[name] = 2

    for name in sorted(by_name):
        if state.get(name) is None:
            visit(name)


def _line_of(job: JobSpec, key: tuple[str, ...]) -> int | None:
    if not job.source:
        return None
    from forgekit.core.yamlfile import load_yaml

    try:
        return load_yaml(job.source).line_of(key)
    except ConfigError:
        return None


def notebook_parameters(path: str | Path) -> dict[str, Any]:
    """Names and default values assigned in a notebook's cell tagged `parameters`.

    A default that is not a literal is returned as `...` (any value is accepted for it).
    An empty dict when the notebook has no such cell.
    """
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    out: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        if "parameters" not in (cell.get("metadata", {}).get("tags") or []):
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in tree.body:
            targets: list[ast.expr] = []
            value: ast.expr | None = None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign):
                targets, value = [node.target], node.value
            for t in targets:
                if isinstance(t, ast.Name):
                    try:
                        out[t.id] = ast.literal_eval(value) if value is not None else ...
                    except ValueError:
                        out[t.id] = ...
    return out


def check_parameters(params: dict[str, Any], allowed: dict[str, Any]) -> list[str]:
    """Problems with `params` against the notebook's parameters (and their defaults'
    types): unknown names and values of another type. Empty when all is well."""
    problems = []
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        known = ", ".join(sorted(allowed)) or "(none)"
        problems.append(
            f"unknown parameter(s) {', '.join(map(repr, unknown))}; the notebook takes: {known}"
        )
    for name, value in params.items():
        if name not in allowed:
            continue
        default = allowed[name]
        if default is ... or default is None or value is None:
            continue
        want: tuple[type, ...] = (type(default),)
        if isinstance(default, float):
            want = (int, float)
        ok = isinstance(value, want) and not (
            isinstance(value, bool) and not isinstance(default, bool)
        )
        if isinstance(default, (list, tuple)):
            ok = isinstance(value, list)
        if not ok:
            problems.append(
                f"parameter {name!r} should be a {type(default).__name__} like its default "
                f"{default!r}, got {type(value).__name__} {value!r}"
            )
    return problems

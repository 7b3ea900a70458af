"""Checks an evaluation passes before its first model call, so that a config mistake is
one error naming the file and line, not the same failure recorded on every sample.

- every model alias it uses (the models, a solver's own `model`, a judge's `model`) is
  configured in the project's `forgekit.yaml`;
- every prompt template renders for every sample: a placeholder some sample lacks is
  named with the sample's file and line and the field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from forgekit.core.errors import ConfigError

if TYPE_CHECKING:
    from forgekit.core.config import ProjectConfig
    from forgekit.evals.objects import EvalPlan
    from forgekit.models.gateway import Gateway


def _suite_line(plan: EvalPlan, path: tuple) -> int | None:
    """The line of `path` in the suite file the plan was compiled from, if any."""
    if not plan.source:
        return None
    from forgekit.core.yamlfile import load_yaml

    try:
        return load_yaml(plan.source).line_of(path)
    except ConfigError:
        return None


def _solver_index(plan: EvalPlan, label: str) -> int | None:
    names = [s.get("name") for s in (plan.spec or {}).get("solvers", [])]
    return names.index(label) if label in names else None


def _models_used(plan: EvalPlan) -> list[tuple[str, tuple, str]]:
    """(alias, key path in the suite, what uses it)."""
    used: list[tuple[str, tuple, str]] = [
        (m, ("models", i), "models") for i, m in enumerate(plan.models)
    ]
    for entry in plan.solvers:
        for obj in _inner_solvers(entry.solver):
            alias = getattr(obj, "model", None)
            if isinstance(alias, str):
                i = _solver_index(plan, entry.label)
                used.append((alias, ("solvers", i) if i is not None else (),
                             f"solver {entry.label!r}"))
    for i, spec in enumerate(plan.scorer_configs):
        alias = spec.get("model") if isinstance(spec, dict) else None
        if isinstance(alias, str):
            used.append((alias, ("scorers", i, "model"), f"scorer {spec.get('type')!r}"))
    return used


def _inner_solvers(obj: Any, depth: int = 0) -> list[Any]:
    """The solver and the solvers it wraps (a strategy's `inner`)."""
    out = [obj]
    inner = getattr(obj, "inner", None)
    if inner is not None and depth < 5:
        out += _inner_solvers(inner, depth + 1)
    return out


def check_aliases(plan: EvalPlan, config: ProjectConfig | None) -> None:
    """Raise ConfigError for the first model alias the plan uses that is not configured."""
    if config is None:
        return
    aliases = getattr(getattr(config, "models", None), "aliases", None)
    if aliases is None:
        return
    for alias, path, who in _models_used(plan):
        if alias not in aliases:
            known = ", ".join(sorted(aliases)) or "(none)"
            raise ConfigError(
                f"{who} uses model alias {alias!r}, which is not configured (known: {known}). "
                f"Add it under models.aliases in forgekit.yaml"
                + (f" ({config.source})" if getattr(config, "source", None) else ""),
                file=plan.source,
                line=_suite_line(plan, path) if path else None,
                key=".".join(map(str, path)) or None,
            )


def _template_error(e: Exception) -> str | None:
    """The missing field of a failed render, or None when it was not a missing field."""
    if isinstance(e, KeyError):
        return repr(e.args[0]) if e.args else "?"
    if type(e).__name__ == "UndefinedError":  # jinja2 StrictUndefined
        return str(e)
    if isinstance(e, (IndexError, AttributeError)):
        return str(e)
    return None


def check_templates(plan: EvalPlan) -> None:
    """Raise ConfigError when a prompt template does not render for some sample."""
    for entry in plan.solvers:
        for obj in _inner_solvers(entry.solver):
            render = getattr(obj, "messages", None)
            template = getattr(obj, "template", None)
            if not callable(render) or not isinstance(template, str):
                continue
            for sample in plan.samples:
                try:
                    render(sample)
                except Exception as e:  # noqa: BLE001 - classified below
                    field = _template_error(e)
                    if field is None:
                        raise
                    where = _locate(plan, sample.id)
                    i = _solver_index(plan, entry.label)
                    raise ConfigError(
                        f"{where}: sample {sample.id!r} has no field {field} that the "
                        f"template of solver {entry.label!r} uses ({template[:60]!r}); add "
                        "it to every sample (or its metadata), or change the template",
                        file=plan.source,
                        line=_suite_line(plan, ("solvers", i, "template")) if i is not None
                        else None,
                        key=f"solvers.{i}.template" if i is not None else "template",
                    ) from None


def _locate(plan: EvalPlan, sample_id: str) -> str:
    """'file:line' of a sample in its task set file (or its id when not from a file)."""
    if plan.taskset:
        from forgekit.evals.tasksets import locate_sample

        found = locate_sample(plan.taskset, sample_id)
        if found:
            return found
    return f"sample {sample_id!r}"


def preflight(plan: EvalPlan, gateway: Gateway | None) -> None:
    """Every check above; raises the first problem found."""
    check_aliases(plan, getattr(gateway, "config", None))
    check_templates(plan)

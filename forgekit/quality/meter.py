"""Metering a strategy's own spending, and steering the calls of the solver it wraps.

A strategy wraps the run's gateway in a `MeteredClient`: every call the strategy (or the
solver inside it) makes passes through, is counted in a meter (a `RunTotals`), and may get parameter
overrides (a sampling temperature, a seed, another model) without the inner solver
knowing. Budget refusals from the gateway (`BudgetExceeded`) pass through untouched.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from forgekit.core.context import ModelClient, RunContext
from forgekit.core.messages import Message, ModelResponse
from forgekit.core.totals import RunTotals

# a strategy's meter is a run's totals, counted from the responses its calls got
Meter = RunTotals


def meter_totals(meter: RunTotals) -> dict[str, Any]:
    """The numbers a strategy reports in `Answer.metadata`: answered calls, cost,
    tokens, failed calls."""
    return {
        "calls": meter.model_calls,
        "cost_usd": round(meter.cost_usd, 10),
        "tokens": meter.total_tokens,
        "errors": meter.errors,
    }


class MeteredClient:
    """A gateway wrapper that counts calls into meters and applies parameter overrides.

    Attributes it does not define (``config``, ``resolve``, ...) are those of the wrapped
    client, so an inner solver that inspects its gateway still sees the real one.
    """

    def __init__(
        self,
        inner: ModelClient,
        meters: list[RunTotals],
        *,
        model: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self._inner = inner
        self._meters = meters
        self._model = model
        self._params = dict(params or {})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def acomplete(
        self, messages: list[Message] | str, *, model: str | None = None, **kwargs: Any
    ) -> ModelResponse:
        # the strategy's choice of model and sampling wins over the inner solver's
        if self._model is not None:
            model = self._model
        kwargs.update(self._params)
        try:
            response = await self._inner.acomplete(messages, model=model, **kwargs)
        except Exception:
            for m in self._meters:
                m.add_error()
            raise
        for m in self._meters:
            m.add(response)
        return response


def metered(
    ctx: RunContext,
    meter: RunTotals,
    *,
    model: str | None = None,
    params: dict[str, Any] | None = None,
    inherit: bool = True,
) -> RunContext:
    """A copy of `ctx` whose calls are counted in `meter` (and every meter above it).

    `model` and `params` are forced on every call made through the copy. With
    `inherit=True` the overrides of an enclosing strategy still apply (a candidate of a
    nested strategy keeps the outer sampling temperature); with `inherit=False` they are
    dropped (a judge's calls use the judge's own settings).
    """
    gw = ctx.gateway
    chain = [meter]
    own = dict(params or {})
    if isinstance(gw, MeteredClient):
        # count in the enclosing strategies' meters too, without stacking wrappers
        chain = [meter, *gw._meters]
        if inherit:
            model = model if model is not None else gw._model
            own = {**gw._params, **own}
        gw = gw._inner
    client = MeteredClient(gw, chain, model=model, params=own)
    return replace(ctx, gateway=client, model=model or ctx.model)

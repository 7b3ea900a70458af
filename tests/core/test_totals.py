from forgekit.core import (
    ModelCall,
    ModelResponse,
    NoteEvent,
    RunEnd,
    RunTotals,
    StepEvent,
    ToolCallEvent,
    Usage,
)


def _call(inp: int, out: int, cost: float, lat: float, error: str | None = None) -> ModelCall:
    return ModelCall(usage=Usage(input_tokens=inp, output_tokens=out), cost_usd=cost,
                     latency_s=lat, error=error)


def test_events_are_counted_by_kind_and_a_failed_call_is_a_call_and_an_error():
    t = RunTotals.of([
        _call(10, 2, 0.5, 1.0),
        _call(0, 0, 0.0, 0.25, error="ModelError: down"),
        ToolCallEvent(name="calc"),
        StepEvent(step=1),
        StepEvent(step=2),
        NoteEvent(kind="x"),
        RunEnd(model_calls=99, cost_usd=9.0),  # an end carries totals: counting it would double
    ])
    assert (t.model_calls, t.tool_calls, t.steps, t.errors) == (2, 1, 2, 1)
    assert (t.input_tokens, t.output_tokens, t.total_tokens) == (10, 2, 12)
    assert t.cost_usd == 0.5 and t.latency_s == 1.25
    assert t.usage == Usage(input_tokens=10, output_tokens=2)


def test_responses_count_answered_calls_and_add_error_counts_failures():
    t = RunTotals()
    t.add(ModelResponse(usage=Usage(input_tokens=3, output_tokens=4), cost_usd=0.1)).add(
        ModelResponse(usage=Usage(input_tokens=1), cost_usd=0.2))
    t.add_error()
    assert (t.model_calls, t.errors, t.total_tokens) == (2, 1, 8)
    assert abs(t.cost_usd - 0.3) < 1e-12


def test_totals_add_up_field_by_field_and_in_place():
    a = RunTotals(model_calls=1, steps=2, input_tokens=3, cost_usd=0.5, duration_s=1.0)
    b = RunTotals(model_calls=2, tool_calls=1, output_tokens=4, cost_usd=0.25, errors=1)
    s = a + b
    assert s == RunTotals(model_calls=3, tool_calls=1, steps=2, input_tokens=3,
                          output_tokens=4, cost_usd=0.75, duration_s=1.0, errors=1)
    assert a.model_calls == 1  # `+` makes a new one
    a += b
    assert a == s
    assert sum([a, b], RunTotals()) == a + b


def test_run_end_keys_round_trip_and_match_what_run_end_stores():
    t = RunTotals(model_calls=2, tool_calls=1, steps=3, input_tokens=5, output_tokens=6,
                  cost_usd=0.01)
    end = RunEnd(duration_s=2.5, **t.run_end_fields())
    data = end.model_dump(mode="json")
    assert {k: data[k] for k in ("usage", "cost_usd", "model_calls", "tool_calls", "steps")} == {
        "usage": {"input_tokens": 5, "output_tokens": 6}, "cost_usd": 0.01,
        "model_calls": 2, "tool_calls": 1, "steps": 3,
    }
    back = RunTotals.from_run_end(RunEnd.model_validate(data))
    assert back == RunTotals(model_calls=2, tool_calls=1, steps=3, input_tokens=5,
                             output_tokens=6, cost_usd=0.01, duration_s=2.5)


def test_flat_dicts_read_results_rows_with_nulls_and_nested_usage():
    row = {"input_tokens": 7, "output_tokens": None, "cost_usd": 0.5, "model_calls": 2,
           "steps": 1, "sample_id": "a", "latency_s": 3.0}
    t = RunTotals.from_dict(row)
    assert (t.input_tokens, t.output_tokens, t.model_calls, t.steps, t.tool_calls) == (
        7, 0, 2, 1, 0)
    assert RunTotals.from_dict(t.to_dict()) == t
    assert t.to_dict()["total_tokens"] == 7
    nested = RunTotals.from_dict({"usage": {"input_tokens": 2, "output_tokens": 1}})
    assert nested.total_tokens == 3

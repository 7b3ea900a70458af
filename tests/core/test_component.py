"""The component model: recorded arguments, config round-trip, versions, references."""

from __future__ import annotations

import json

import pytest
import yaml
from pydantic import BaseModel, ConfigDict

from forgekit.core.component import (
    Component,
    build_component,
    config_hash,
    config_of,
    register_component,
    registered_components,
    resolve_ref,
)
from forgekit.core.errors import ConfigError


class Leaf(Component, type="test-leaf", kind="test"):
    def __init__(self, text: str = "x", *, weight: float = 1.0) -> None:
        self.text = text
        self.weight = weight


class Wrapper(Component, type="test-wrapper", kind="test", version=2):
    raw_args = frozenset({"params"})

    def __init__(self, inner: Leaf, *, n: int = 3, params: dict | None = None,
                 check: object = None, **extra: object) -> None:
        self.inner = inner
        self.n = n
        self.params = params or {}
        self.check = resolve_ref(check) if check is not None else None
        self.extra = extra

    @classmethod
    def migrate_config(cls, data: dict, version: int) -> dict:
        if version == 1 and "count" in data:
            data = {**data, "n": data.pop("count")}
        return data


class Special(Wrapper):
    """A subclass without a type of its own: records, but is not registered."""

    def __init__(self, inner: Leaf, *, label: str = "s") -> None:
        super().__init__(inner, n=7)
        self.label = label


class Knob(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: int = 1
    name: str = "knob"


register_component(Knob, type="test-knob", kind="test")


def top_level_check(answer: str) -> bool:
    return bool(answer)


def test_config_records_only_non_default_arguments():
    assert Leaf().config() == {"type": "test-leaf", "version": 1}
    assert Leaf("hi", weight=2.0).config() == {
        "type": "test-leaf", "version": 1, "text": "hi", "weight": 2.0
    }


def test_nested_round_trip_through_yaml_and_json_is_exact():
    w = Wrapper(Leaf("a"), n=5, params={"type": "json_object"}, check=top_level_check,
                color="red")
    cfg = w.config()
    assert cfg["inner"] == {"type": "test-leaf", "version": 1, "text": "a"}
    assert cfg["check"] == f"{__name__}:top_level_check"
    assert cfg["color"] == "red"
    for text in (yaml.safe_dump(cfg), json.dumps(cfg)):
        back = build_component(yaml.safe_load(text))
        assert back == w
        assert back.config() == cfg
        assert back.check is top_level_check
        # a raw argument stays data even though it looks like a typed mapping
        assert back.params == {"type": "json_object"}


def test_subclass_records_its_own_arguments_not_its_parents():
    s = Special(Leaf(), label="t")
    assert s._component_args == {"inner": Leaf(), "label": "t"}


def test_hash_changes_with_any_argument_and_not_with_defaults_spelled_out():
    assert config_hash(Leaf("a")) == config_hash(Leaf("a", weight=1.0))
    assert config_hash(Leaf("a")) != config_hash(Leaf("b"))
    assert config_hash(Wrapper(Leaf("a"))) != config_hash(Wrapper(Leaf("a", weight=0.5)))


def test_pydantic_model_component_round_trip():
    k = Knob(level=3)
    cfg = config_of(k)
    assert cfg == {"type": "test-knob", "version": 1, "level": 3}
    assert build_component(cfg) == k


def test_unknown_type_lists_the_known_ones_of_that_kind():
    with pytest.raises(ConfigError) as e:
        build_component({"type": "test-lef"}, kind="test", where="solvers[0]")
    assert "test-leaf" in str(e.value) and "test-wrapper" in str(e.value)
    assert e.value.key == "solvers[0].type"


def test_wrong_kind_and_unknown_field_are_named():
    with pytest.raises(ConfigError, match="not a solver"):
        build_component({"type": "test-leaf"}, kind="solver")
    with pytest.raises(ConfigError, match="unknown field.*colour") as e:
        build_component({"type": "test-leaf", "colour": 1})
    assert e.value.key.endswith("colour")


def test_older_version_migrates_newer_version_fails_clearly():
    old = {"type": "test-wrapper", "version": 1, "inner": {"type": "test-leaf"}, "count": 9}
    assert build_component(old).n == 9
    with pytest.raises(ConfigError, match="newer than this forgekit"):
        build_component({"type": "test-wrapper", "version": 3, "inner": {"type": "test-leaf"}})


def test_unreferenceable_callable_is_a_clear_error():
    w = Wrapper(Leaf(), check=lambda a: True)
    with pytest.raises(ConfigError, match="cannot be referenced"):
        w.config()


def test_bad_reference_is_a_clear_error():
    with pytest.raises(ConfigError, match="not a reference"):
        resolve_ref("no_colon_here")
    with pytest.raises(ConfigError, match="has no"):
        resolve_ref("json:no_such_function")


def test_function_identity_follows_its_source():
    def solver_a(sample):
        return "1"

    def solver_b(sample):
        return "2"

    assert config_of(solver_a)["type"] == "function"
    assert config_hash(solver_a) != config_hash(solver_b)


def test_registry_by_kind():
    found = registered_components("test")
    assert {"test-leaf", "test-wrapper", "test-knob"} <= set(found)
    assert "test-leaf" not in registered_components("solver")


def test_a_type_name_cannot_be_taken_twice():
    with pytest.raises(ConfigError, match="taken"):
        class Other(Component, type="test-leaf"):  # noqa: F841
            def __init__(self) -> None:
                pass

"""Tools from typed functions and YAML bundles."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import BaseModel

from forgekit.agents import Tool, ToolEnv, ToolError, load_bundle, shipped_bundles, tool
from forgekit.core.errors import ConfigError


class Point(BaseModel):
    x: float
    y: float


def distance(a: Point, b: Point, scale: float = 1.0) -> float:
    """Distance between two points.

    Args:
        a: the first point
        b: the second point
        scale: multiplies the result
    """
    return ((a.x - b.x) ** 2 + (a.y - b.y) ** 2) ** 0.5 * scale


def test_function_becomes_tool_with_schema_and_description():
    t = Tool.from_function(distance)
    spec = t.to_openai()
    assert spec["type"] == "function"
    fn = spec["function"]
    assert fn["name"] == "distance"
    assert fn["description"] == "Distance between two points."
    params = fn["parameters"]
    assert params["required"] == ["a", "b"]
    assert params["properties"]["scale"]["description"] == "multiplies the result"
    assert "$defs" in params  # the pydantic model argument is described
    assert asyncio.run(t.call({"a": {"x": 0, "y": 0}, "b": {"x": 3, "y": 4}})) == "5.0"


def test_invalid_arguments_raise_tool_error_naming_the_field():
    t = Tool.from_function(distance)
    with pytest.raises(ToolError, match="a.x"):
        t.validate({"a": {"x": "far"}, "b": {"x": 1, "y": 1}})
    with pytest.raises(ToolError, match="unknown argument"):
        t.validate({"a": {"x": 1, "y": 1}, "b": {"x": 1, "y": 1}, "zzz": 1})
    with pytest.raises(ToolError, match="not valid JSON"):
        t.validate("{a: ")


def test_decorator_and_env_injection(tmp_path: Path):
    @tool(effect="read")
    def where(env: ToolEnv) -> str:
        """Say the workspace."""
        return str(env.workspace)

    assert where.effect == "read"
    assert "env" not in where.parameters()["properties"]
    assert asyncio.run(where.call({}, ToolEnv(workspace=tmp_path))) == str(tmp_path)


def test_shipped_bundles_load_and_convert_to_openai():
    assert set(shipped_bundles()) >= {"files", "shell", "python", "retrieval"}
    files = load_bundle("files")
    names = [f["function"]["name"] for f in files.to_openai()]
    assert names == ["read_file", "write_file", "list_files", "search_files", "apply_diff"]
    read = files.tools[0]
    assert read.path_args == ["path"] and read.effect == "read"
    assert load_bundle("shell").tools[0].command_arg == "command"
    assert load_bundle("python").tools[0].code_arg == "code"


def test_bundle_from_path_with_script_implementation(tmp_path: Path):
    b = tmp_path / "greet"
    b.mkdir()
    (b / "hello.py").write_text(
        "import json, sys\nargs = json.loads(sys.argv[1])\nprint('hello ' + args['who'])\n"
    )
    (b / "config.yaml").write_text(
        "name: greet\ntools:\n  - name: hello\n    docstring: Greet someone.\n"
        "    script: hello.py\n    arguments:\n"
        "      - {name: who, type: string, required: true}\n"
    )
    bundle = load_bundle(b)
    out = asyncio.run(bundle.tools[0].call({"who": "ada"}, ToolEnv(workspace=tmp_path)))
    assert out.strip() == "hello ada"


def test_bad_bundle_config_names_file_line_and_key(tmp_path: Path):
    b = tmp_path / "bad"
    b.mkdir()
    (b / "config.yaml").write_text(
        "name: bad\ntools:\n  - name: t\n    docstring: x\n"
        "    implementation: os:path\n    arguments:\n      - {name: a, typo: 1}\n"
    )
    with pytest.raises(ConfigError) as e:
        load_bundle(b)
    assert e.value.line == 7 and "tools.0.arguments.0.typo" in str(e.value)
    (b / "config.yaml").write_text(
        "name: bad\ntools:\n  - name: t\n    docstring: x\n"
        "    implementation: forgekit.nothing_here:fn\n"
    )
    with pytest.raises(ConfigError, match="cannot import implementation") as e:
        load_bundle(b)
    assert e.value.line == 5
    with pytest.raises(ConfigError, match="no tool bundle"):
        load_bundle("no-such-bundle")


def test_retrieval_bundle_accepts_any_search_function(tmp_path: Path):
    def search_docs(query: str, k: int = 5) -> str:
        return f"{k} passages about {query}"

    bundle = load_bundle("retrieval", search=search_docs)
    out = asyncio.run(
        bundle.tools[0].call({"query": "llamas", "k": 2}, ToolEnv(workspace=tmp_path))
    )
    assert out == "2 passages about llamas"
    with pytest.raises(ToolError, match="no index"):
        asyncio.run(
            load_bundle("retrieval").tools[0].call({"query": "x"}, ToolEnv(workspace=tmp_path))
        )


def test_retrieval_bundle_with_an_index_goes_through_rag_retrieval_tool(tmp_path: Path):
    class Hits:
        def __init__(self, q, k):
            self.q, self.k = q, k

        def to_text(self, max_chars: int = 600) -> str:
            return f"[1] {self.k} hits for {self.q}"

    class FakeIndex:  # the duck type forgekit.rag.retrieval_tool needs
        def search(self, query, k=5):
            return Hits(query, k)

    bundle = load_bundle("retrieval", index=FakeIndex())
    out = asyncio.run(
        bundle.tools[0].call({"query": "llamas", "k": 3}, ToolEnv(workspace=tmp_path))
    )
    assert out == "[1] 3 hits for llamas"

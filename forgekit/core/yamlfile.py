"""YAML files that remember where every key was, so a bad value is reported by file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from forgekit.core.errors import ConfigError
from forgekit.core.redact import is_secret_name, redact_text

M = TypeVar("M", bound=BaseModel)
KeyPath = tuple[str | int, ...]


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int, first: int) -> None:
        self.key, self.line, self.first = key, line, first


def _index_lines(node: yaml.Node, path: KeyPath, out: dict[KeyPath, int]) -> None:
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, _ in node.value:  # YAML says keys are unique; PyYAML keeps the last
            if isinstance(key_node, yaml.ScalarNode):
                line = key_node.start_mark.line + 1
                if key_node.value in seen and key_node.tag != "tag:yaml.org,2002:merge":
                    raise _DuplicateKey(key_node.value, line, seen[key_node.value])
                seen[key_node.value] = line
        for key_node, value_node in node.value:
            key = key_node.value
            out[path + (key,)] = key_node.start_mark.line + 1
            sub: dict[KeyPath, int] = {}
            _index_lines(value_node, path + (key,), sub)
            for k, v in sub.items():
                out.setdefault(k, v)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, path + (i,), out)


class YamlDoc:
    """Parsed YAML data plus a map from key paths to line numbers."""

    def __init__(self, data: Any, lines: dict[KeyPath, int], file: str) -> None:
        self.data = data
        self.lines = lines
        self.file = file

    def line_of(self, path: KeyPath) -> int | None:
        """The line of the deepest known prefix of `path`."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), None)

    def error(self, message: str, path: KeyPath = ()) -> ConfigError:
        return ConfigError(message, file=self.file, line=self.line_of(path),
                           key=".".join(str(p) for p in path) or None)


def load_yaml(path: str | Path, text: str | None = None) -> YamlDoc:
    """Read a YAML file; a syntax error becomes a ConfigError with file and line."""
    path = Path(path)
    if text is None:
        try:
            data = path.read_bytes()
        except FileNotFoundError as e:
            raise ConfigError("file not found", file=path) from e
        try:
            text = data.decode("utf-8-sig")  # a leading BOM is fine
        except UnicodeDecodeError as e:
            offset = e.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
            raise ConfigError(
                f"not UTF-8: byte 0x{data[offset]:02x} at offset {offset}; save the file as "
                "UTF-8",
                file=path,
                line=data.count(b"\n", 0, offset) + 1,
            ) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"invalid YAML: {problem}", file=path, line=line) from e
    lines: dict[KeyPath, int] = {}
    if node is not None:
        try:
            _index_lines(node, (), lines)
        except _DuplicateKey as d:
            raise ConfigError(
                f"duplicate key {d.key!r} (first at line {d.first}); YAML keys must be "
                "unique, and the last one would silently win",
                file=path, line=d.line, key=d.key,
            ) from None
    else:
        lines[()] = 1  # an empty file: its errors point at line 1, not "line None"
    return YamlDoc(data, lines, str(path))


def validate(model: type[M], doc: YamlDoc, *, root: KeyPath = ()) -> M:
    """Validate `doc.data` (or the part at `root`) against a pydantic model. Every problem
    is listed; the error's line is that of the first problem."""
    data = doc.data
    for key in root:
        data = data[key]
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as e:
        problems = []
        first_path: KeyPath | None = None
        for err in e.errors():
            loc = root + tuple(err["loc"])
            if first_path is None:
                first_path = loc
            line = doc.line_of(loc)
            key = ".".join(str(p) for p in loc) or "(top level)"
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (typo?)"
            got = err.get("input")
            got_text = "" if err["type"] in ("missing", "extra_forbidden") else f" (got {got!r})"
            if got_text and any(is_secret_name(str(p)) for p in loc):
                got_text = " (the value is not shown: the field holds or names a secret)"
            got_text = redact_text(got_text)
            problems.append(f"line {line}: {key}: {msg}{got_text}")
        summary = "; ".join(problems) if len(problems) <= 1 else "\n  " + "\n  ".join(problems)
        raise ConfigError(
            f"invalid {model.__name__}: {summary}",
            file=doc.file,
            line=doc.line_of(first_path or ()),
            key=".".join(str(p) for p in (first_path or ())) or None,
        ) from None

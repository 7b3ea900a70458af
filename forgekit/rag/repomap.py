"""A compact map of a code directory (files, classes, functions, signatures) that fits a
token budget, for use as agent context."""

from __future__ import annotations

import ast
from pathlib import Path

from forgekit.rag.chunking import count_tokens

_SKIP = {".git", "__pycache__", ".venv", "venv", "node_modules", ".forgekit", "build", "dist"}


def _sig(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    args = ast.unparse(node.args)
    ret = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    return f"{prefix} {node.name}({args}){ret}"


def _doc_line(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    doc = ast.get_docstring(node)
    return doc.strip().splitlines()[0] if doc else ""


def file_outline(path: Path, *, docstrings: bool = True, private: bool = False) -> list[str]:
    """Lines describing one Python file's top-level classes (with methods) and functions."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except SyntaxError:
        return ["  (does not parse)"]
    out: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name.startswith("_") and not private:
                continue
            doc = _doc_line(node) if docstrings else ""
            out.append(f"  {_sig(node)}" + (f"  # {doc}" if doc else ""))
        elif isinstance(node, ast.ClassDef):
            if node.name.startswith("_") and not private:
                continue
            bases = ", ".join(ast.unparse(b) for b in node.bases)
            doc = _doc_line(node) if docstrings else ""
            out.append(
                f"  class {node.name}"
                + (f"({bases})" if bases else "")
                + ":"
                + (f"  # {doc}" if doc else "")
            )
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
                    if sub.name.startswith("_") and sub.name != "__init__" and not private:
                        continue
                    out.append(f"    {_sig(sub)}")
    return out


def repo_map(
    root: str | Path, *, token_budget: int = 2000, docstrings: bool = True, private: bool = False
) -> str:
    """A map of the Python files under `root` within `token_budget` tokens.

    Files are listed by path; when the full map does not fit, detail is dropped in
    steps (docstrings, then methods, then signatures) and finally files are cut, with
    a note saying how many were left out.

    Example:
        >>> print(repo_map("forgekit/rag", token_budget=300))  # doctest: +SKIP
    """
    root = Path(root)
    files = sorted(
        p
        for p in root.rglob("*.py")
        if not any(part in _SKIP for part in p.relative_to(root).parts)
    )

    def render(doc: bool, methods: bool, sigs: bool) -> list[str]:
        blocks = []
        for p in files:
            lines = [p.relative_to(root).as_posix()]
            if sigs:
                outline = file_outline(p, docstrings=doc, private=private)
                if not methods:
                    outline = [x for x in outline if not x.startswith("    ")]
                lines.extend(outline)
            blocks.append("\n".join(lines))
        return blocks

    for doc, methods, sigs in [
        (docstrings, True, True),
        (False, True, True),
        (False, False, True),
        (False, False, False),
    ]:
        blocks = render(doc, methods, sigs)
        text = "\n".join(blocks)
        if count_tokens(text) <= token_budget:
            return text
    kept: list[str] = []
    used = 0
    for b in blocks:
        n = count_tokens(b) + 1
        if used + n > token_budget - 12:
            break
        kept.append(b)
        used += n
    left = len(blocks) - len(kept)
    return "\n".join([*kept, f"... ({left} more files not shown)"])

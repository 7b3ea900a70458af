"""The layering of DESIGN.md holds, and `import forgekit` loads nothing heavy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import forgekit

LAYERS = ["core", "models", "trajectory", "rag", "agents", "quality", "evals", "tracking",
          "notebook", "pipelines", "cli"]
PACKAGE = Path(forgekit.__file__).parent
HEAVY = ["litellm", "torch", "sentence_transformers", "lancedb", "mlflow", "keybert",
         "papermill", "marimo", "ipywidgets", "anywidget", "matplotlib", "duckdb", "polars",
         "llama_cpp", "pyarrow"]


def _module_level_imports(path: Path) -> list[tuple[str, int]]:
    """Imports at module level (not inside functions): what loading the module costs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[str, int]] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                out.extend((a.name, node.lineno) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                out.append((node.module, node.lineno))
            elif isinstance(node, (ast.If, ast.Try)):
                if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                    continue
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for h in getattr(node, "handlers", []):
                    visit(h.body)

    visit(tree.body)
    return out


def _all_imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((a.name, node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
    return out


def test_lower_layers_never_import_higher_ones():
    problems = []
    for i, layer in enumerate(LAYERS):
        higher = set(LAYERS[i + 1:])
        for path in (PACKAGE / layer).rglob("*.py"):
            for mod, line in _all_imports(path):
                parts = mod.split(".")
                if parts[0] == "forgekit" and len(parts) > 1 and parts[1] in higher:
                    problems.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {mod}")
    assert not problems, "layering broken:\n" + "\n".join(problems)


def test_heavy_libraries_are_not_imported_at_module_level():
    problems = []
    for path in PACKAGE.rglob("*.py"):
        for mod, line in _module_level_imports(path):
            if mod.split(".")[0] in HEAVY:
                problems.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {mod}")
    assert not problems, "import these inside functions:\n" + "\n".join(problems)


def test_import_forgekit_loads_no_heavy_library():
    code = (
        "import sys, forgekit, forgekit.core, forgekit.models\n"
        f"heavy = {HEAVY!r}\n"
        "print(','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", f"import forgekit pulled in: {out}"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _import_graph() -> dict[str, set[str]]:
    """forgekit module -> the forgekit modules it imports (anywhere in the file: a cycle
    closed by an import inside a function is still a cycle; imports for type checking
    only are not dependencies)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}

    def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
        out: list[ast.AST] = []
        todo = [tree]
        while todo:
            node = todo.pop()
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                todo.extend(node.orelse)
                continue
            out.append(node)
            todo.extend(ast.iter_child_nodes(node))
        return out

    for name, path in modules.items():
        deps = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in runtime_nodes(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for t in targets:
                # a package's __init__ re-exports its rooms; depend on the room itself
                if t in modules and modules[t].name != "__init__.py":
                    deps.add(t)
        deps.discard(name)
        graph[name] = deps
    return graph


def test_no_import_cycles_inside_a_package():
    graph = _import_graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_module_file_names_are_unique_across_the_package():
    """A file name says which layer it is in: no two modules share one (`stats.py` in two
    layers, `store.py` in two, ... were renamed to what each holds)."""
    seen: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name != "__init__.py":
            seen.setdefault(path.name, []).append(str(path.relative_to(PACKAGE)))
    shared = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not shared, f"module names used more than once: {shared}"

from __future__ import annotations

from forgekit.rag.chunking import count_tokens
from forgekit.rag.repomap import repo_map


def _repo(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(
        'class Store:\n    """Keeps things."""\n\n    def __init__(self, path: str) -> None:\n'
        '        pass\n\n    def get(self, key: str) -> bytes:\n        return b""\n\n'
        "    def _private(self):\n        pass\n\n\ndef helper(x: int = 1) -> int:\n"
        '    """Add one."""\n    return x + 1\n'
    )
    (tmp_path / "pkg" / "b.py").write_text("async def run(*args, **kw):\n    pass\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "skip.py").write_text("def no(): pass\n")
    for i in range(30):
        (tmp_path / "pkg" / f"m{i:02}.py").write_text(
            f"def function_number_{i}(alpha: int, beta: str = 'x') -> list[str]:\n    pass\n"
        )
    return tmp_path


def test_full_map_lists_classes_methods_and_signatures(tmp_path):
    text = repo_map(_repo(tmp_path), token_budget=100_000)
    assert "pkg/a.py\n  class Store:  # Keeps things." in text
    assert "    def __init__(self, path: str) -> None" in text
    assert "    def get(self, key: str) -> bytes" in text
    assert "_private" not in text and "skip.py" not in text
    assert "  def helper(x: int=1) -> int  # Add one." in text
    assert "  async def run(*args, **kw)" in text


def test_map_fits_the_budget_by_dropping_detail(tmp_path):
    root = _repo(tmp_path)
    for budget in (400, 150, 40):
        text = repo_map(root, token_budget=budget)
        assert count_tokens(text) <= budget, (budget, text)
    assert "more files not shown" in repo_map(root, token_budget=40)
    assert "def get" not in repo_map(root, token_budget=400)  # methods went first

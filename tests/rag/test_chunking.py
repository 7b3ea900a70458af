from __future__ import annotations

import pytest

from forgekit.core.errors import ConfigError
from forgekit.rag.chunking import (
    ChunkingConfig,
    chunk_file,
    chunk_markdown,
    chunk_python,
    chunk_text,
    content_hash,
    count_tokens,
)

MD = """# Title

Intro paragraph with some words here.

## Install

Run pip install forgekit to get going now.

```bash
# not a heading
pip install forgekit
```

## Use

### Search

Call idx.search with a query string please.
"""

PY = '''"""Module doc."""

import os

X = 1


@decorator
def first(a: int) -> int:
    return a + 1


class Thing:
    def method(self):
        return 2


async def later():
    pass
'''


def test_markdown_splits_on_headings_not_inside_fences():
    chunks = chunk_markdown(MD, source="doc.md")
    assert [c.section for c in chunks] == ["Title", "Title > Install", "Title > Use > Search"]
    install = chunks[1]
    assert "# not a heading" in install.text
    lines = MD.splitlines()
    # spans point at the right lines of the source
    assert lines[install.start_line - 1] == "## Install"
    assert lines[install.end_line - 1] == "```"
    assert MD[install.start_char : install.end_char] == install.text
    assert all(c.kind == "markdown" and c.source == "doc.md" for c in chunks)


def test_python_splits_on_top_level_definitions_with_decorators():
    chunks = chunk_python(PY, source="m.py")
    sections = [c.section for c in chunks]
    assert sections == ["", "def first", "class Thing", "def later"]
    first = chunks[1]
    assert first.text.startswith("@decorator\ndef first")
    assert PY.splitlines()[first.start_line - 1] == "@decorator"
    assert "return 2" in chunks[2].text and "import os" in chunks[0].text


def test_python_that_does_not_parse_falls_back_to_windows():
    chunks = chunk_python("def broken(:\n  pass\n", source="b.py")
    assert len(chunks) == 1 and chunks[0].kind == "python"


def test_text_windows_overlap_and_cover_everything():
    words = [f"w{i}" for i in range(100)]
    text = "\n".join(" ".join(words[i : i + 10]) for i in range(0, 100, 10))
    cfg = ChunkingConfig(chunk_size=30, overlap=10)
    chunks = chunk_text(text, source="t.txt", cfg=cfg)
    toks = [c.text.split() for c in chunks]
    assert [len(t) for t in toks] == [30, 30, 30, 30, 20]
    assert toks[0][-10:] == toks[1][:10]  # overlap
    assert toks[-1][-1] == "w99"
    assert chunks[1].start_line == 3 and chunks[1].end_line == 5


def test_overlap_must_be_smaller_than_chunk_size():
    with pytest.raises(ConfigError, match="overlap"):
        ChunkingConfig(chunk_size=10, overlap=10)


def test_hash_covers_title_and_text():
    a = chunk_text("same text", source="a", title="A")[0]
    b = chunk_text("same text", source="b", title="B")[0]
    c = chunk_text("same text", source="c", title="A")[0]
    assert a.hash != b.hash and a.hash == c.hash
    assert a.hash == content_hash("A\nsame text")
    assert count_tokens("Hello, world!") == 4


def test_chunk_file_picks_the_chunker_by_suffix(tmp_path):
    (tmp_path / "a.md").write_text(MD)
    (tmp_path / "b.py").write_text(PY)
    (tmp_path / "c.txt").write_text("plain words here")
    assert chunk_file(tmp_path / "a.md", source="a.md")[0].kind == "markdown"
    assert chunk_file(tmp_path / "b.py", source="b.py")[1].section == "def first"
    assert chunk_file(tmp_path / "c.txt", source="c.txt")[0].kind == "text"


def test_long_markdown_section_is_cut_into_windows():
    body = " ".join(f"word{i}" for i in range(500))
    chunks = chunk_markdown(
        f"# Big\n\n{body}\n",
        source="big.md",
        cfg=ChunkingConfig(chunk_size=100, overlap=20, max_section_tokens=150),
    )
    assert len(chunks) > 3 and all(c.section == "Big" for c in chunks)
    assert [c.chunk_index for c in chunks] == list(range(len(chunks)))

"""Fixtures of the rag tests: the packaged embedding model (loaded once per session)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def embedder():
    from forgekit.rag.embedding import SentenceTransformerEmbedder

    e = SentenceTransformerEmbedder()
    assert e.dim == 384
    return e


@pytest.fixture
def docs_dir(tmp_path):
    root = tmp_path / "src"
    (root / "guide").mkdir(parents=True)
    (root / "guide" / "install.md").write_text(
        "# Install\n\nInstall forgekit with pip. It needs Python 3.11.\n\n"
        "## Offline\n\nThe embedding model ships in a package, so no download is needed.\n"
    )
    (root / "guide" / "search.md").write_text(
        "# Search\n\nHybrid search fuses BM25 and vectors with reciprocal rank fusion.\n"
    )
    (root / "tool.py").write_text(
        'import os\n\n\ndef replay(run_id: str) -> None:\n    """Replay a recorded run."""\n'
        "    print(run_id)\n\n\nclass Budget:\n    limit = 3\n"
    )
    (root / "notes.txt").write_text("Contact the maintainer at maint@example.com for access.")
    return root

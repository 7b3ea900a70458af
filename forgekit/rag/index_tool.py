"""The retrieval tool for agents: a plain typed function over an index."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from forgekit.rag.index import Index


def retrieval_tool(
    index: Index, *, name: str = "search_docs", max_chars: int = 600, description: str | None = None
) -> Callable[..., str]:
    """A typed function `search_docs(query: str, k: int = 5) -> str` that an agent can
    call as a tool; it returns numbered passages with their source spans.

    Args:
        index: the index to search (with its default search configuration).
        name: the function's name (the tool's name).
        max_chars: each passage is cut to this many characters.
        description: replaces the first line of the docstring.
    """

    def search_docs(query: str, k: int = 5) -> str:
        """Search the indexed documents and return the most relevant passages.

        Args:
            query: what to look for, in natural language or keywords.
            k: how many passages to return (1-20).

        Returns:
            Numbered passages, each with its source file and line span.
        """
        k = max(1, min(int(k), 20))
        return index.search(query, k=k).to_text(max_chars=max_chars)

    search_docs.__name__ = name
    search_docs.__qualname__ = name
    if description:
        search_docs.__doc__ = description + "\n" + (search_docs.__doc__ or "").split("\n", 1)[1]
    return search_docs

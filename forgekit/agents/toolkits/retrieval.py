"""The `retrieval` bundle: search a document index.

The seam: pass the bundle an `index` (a forgekit.rag index; `forgekit.rag.retrieval_tool`
turns it into a search function when that exists) or a `search` function taking
``(query: str, k: int = 5) -> str`` (any such function works, e.g. the one
`forgekit.rag.retrieval_tool(index)` returns)::

    load_bundle("retrieval", index=my_index)          # or index="docs": the project's index
    load_bundle("retrieval", search=my_search_docs)
"""

from __future__ import annotations

import inspect
from typing import Any

from forgekit.agents.tools import ToolEnv, ToolError, result_text


def _search_fn(options: dict[str, Any]) -> Any:
    fn = options.get("search")
    if fn is not None:
        return getattr(fn, "fn", fn)  # a Tool wrapping the function is fine too
    index = options.get("index")
    if index is None:
        raise ToolError(
            "the retrieval bundle has no index: load it with "
            "load_bundle('retrieval', index=...) or search=..."
        )
    from forgekit.rag.index_tool import retrieval_tool

    if isinstance(index, str):  # an index named in a config: the project's index of that name
        from forgekit.rag.index import Index

        index = Index(name=index, build=False)
    if not hasattr(index, "search"):
        raise ToolError(f"cannot search {type(index).__name__}: no search() method")
    return retrieval_tool(index)


async def search_docs(query: str, k: int = 5, *, env: ToolEnv) -> str:
    """Search the document index for passages relevant to a query."""
    fn = _search_fn(env.options)
    out = fn(query, k=k)
    if inspect.isawaitable(out):
        out = await out
    return result_text(out)

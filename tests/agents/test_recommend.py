"""BM25 tool recommendation: top-k, or everything when unsure."""

from __future__ import annotations

from forgekit.agents import Tool, load_bundle, recommend_tools


def _tools():
    def weather(city: str) -> str:
        """Get the weather forecast for a city."""
        return ""

    def stock_price(ticker: str) -> str:
        """Look up the current stock price of a company ticker."""
        return ""

    def translate(text: str, language: str) -> str:
        """Translate text into another language."""
        return ""

    extra = [Tool.from_function(f) for f in (weather, stock_price, translate)]
    return extra + load_bundle("files").tools + load_bundle("shell").tools


def test_top_k_for_a_clear_task():
    tools = _tools()
    picked = recommend_tools("what is the weather forecast in Paris", tools, k=1)
    assert [t.name for t in picked] == ["weather"]
    picked = recommend_tools("search file contents for a regular expression", tools, k=1)
    assert [t.name for t in picked] == ["search_files"]


def test_falls_back_to_all_when_unsure():
    tools = _tools()
    assert len(recommend_tools("hello there", tools, k=2)) == len(tools)
    assert len(recommend_tools("the weather", tools[:2], k=5)) == 2


def test_a_tie_at_zero_still_trims_to_k():
    tools = _tools()
    picked = recommend_tools("what is the weather forecast in Paris", tools, k=3)
    assert len(picked) == 3 and picked[0].name == "weather"


def test_near_ties_at_the_cut_are_kept_together():
    def fetch_one(path: str) -> str:
        """Read a file."""
        return ""

    def fetch_two(path: str) -> str:
        """Read a file."""
        return ""

    def other(x: str) -> str:
        """Unrelated."""
        return ""

    tools = [Tool.from_function(f) for f in (fetch_one, fetch_two, other)]
    picked = recommend_tools("read file", tools, k=1)
    assert {t.name for t in picked} == {"fetch_one", "fetch_two"}

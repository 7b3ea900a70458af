"""Agent and StrategyResult render live (cards), with a static HTML fallback (see also
test_display.py, which checks every main object)."""

from __future__ import annotations

from pathlib import Path

WIDGET = "application/vnd.jupyter.widget-view+json"


def test_agent_card_shows_config_tools_policy_and_last_run(tmp_path: Path) -> None:
    from forgekit.agents import Agent, load_bundle
    from forgekit.notebook.cards import AgentCard
    from tests.scripted import scripted_gateway

    agent = Agent("m", bundles=[load_bundle("files")], name="helper")
    card = AgentCard(agent)
    data = card.state()
    assert data["title"] == "agent helper" and data["run"] is None
    tools = next(s for s in data["sections"] if s["label"].startswith("tools"))
    assert any(r["name"] == "read_file" for r in tools["rows"])
    gw, _ = scripted_gateway(["hello there"], aliases={"m": "openai/m"}, root=tmp_path,
                             api_base="http://x", max_retries=0)
    agent.run("say hi", gw)
    data = card.state()
    assert data["run"]["run"]["answer"] and data["run"]["steps"]
    bundle = agent._repr_mimebundle_()
    # live: the card; static: the card's script-free form (an Agent has no HTML of its own)
    assert WIDGET in bundle and bundle["text/html"] == card.html()
    assert "read_file" in card.html() and "agent helper" in card.html()


def test_strategy_result_renders_as_a_card_with_its_own_html() -> None:
    from forgekit.core.samples import Answer
    from forgekit.quality.result import StrategyResult

    result = StrategyResult(Answer(text="42", metadata={
        "strategy": "best_of_n", "strategy_name": "best-of-3", "chosen": 1, "calls": 3,
        "cost_usd": 0.0, "votes": {"42": 2, "41": 1},
        "candidates": [{"index": 0, "text": "41"}, {"index": 1, "text": "42"},
                       {"index": 2, "text": "42"}]}))
    bundle = result._repr_mimebundle_()
    assert WIDGET in bundle
    assert bundle["text/html"] == result._repr_html_()  # the stored output is unchanged
    card = result.view()
    assert card.state()["title"] == "best-of-3" and "votes" in card.html()


def test_component_configs_read_as_one_line() -> None:
    from forgekit.agents import FinalAnswer, MaxSteps, TextMention
    from forgekit.core.component import config_of
    from forgekit.notebook.cards import describe

    cond = FinalAnswer() | (MaxSteps(3) & TextMention("DONE"))
    assert describe(config_of(cond)) == (
        'final_answer() | (max_steps(n=3) & text_mention(text="DONE"))')

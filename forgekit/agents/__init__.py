"""forgekit.agents"""

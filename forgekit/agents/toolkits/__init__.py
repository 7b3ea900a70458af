"""Implementations behind the shipped tool bundles (forgekit/agents/bundles/<name>/)."""

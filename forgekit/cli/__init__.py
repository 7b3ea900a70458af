"""forgekit.cli"""

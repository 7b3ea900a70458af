"""forgekit.notebook"""

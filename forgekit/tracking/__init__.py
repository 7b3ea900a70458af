"""forgekit.tracking"""

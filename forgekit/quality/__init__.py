"""forgekit.quality"""

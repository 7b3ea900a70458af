"""forgekit.trajectory"""

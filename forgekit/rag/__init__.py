"""forgekit.rag"""

"""forgekit.evals"""

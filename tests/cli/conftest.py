"""Fixtures the command-line tests share with the layers they drive."""

from tests.evals.conftest import config, write_suite
from tests.rag.conftest import docs_dir, embedder
from tests.trajectory.conftest import gateway_factory

__all__ = ["config", "docs_dir", "embedder", "gateway_factory", "write_suite"]

"""Fixtures the command-line tests share with the layers they drive."""

from tests.evals.conftest import config, write_suite
from tests.pipelines.conftest import proj
from tests.rag.conftest import docs_dir, embedder
from tests.tracking.conftest import _migrated_db, store
from tests.trajectory.conftest import gateway_factory

__all__ = [
    "_migrated_db", "config", "docs_dir", "embedder", "gateway_factory", "proj", "store",
    "write_suite",
]

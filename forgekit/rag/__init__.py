"""forgekit.rag: chunking, embeddings (cached), KeyBERT keywords, an incremental hybrid
LanceDB index, search with fusion and rerank, PII filtering, retrieval metrics.

Heavy libraries (lancedb, sentence-transformers, keybert) load on first use."""

from forgekit.rag.audit import AuditLog
from forgekit.rag.beir import BeirDataset, load_beir
from forgekit.rag.chunking import (
    Chunk,
    ChunkingConfig,
    chunk_file,
    chunk_markdown,
    chunk_python,
    chunk_text,
)
from forgekit.rag.embedding import (
    EmbeddingCache,
    LiteLLMEmbedder,
    SentenceTransformerEmbedder,
    aembed,
    make_embedder,
)
from forgekit.rag.index import Document, Index, IndexConfig, UpdateReport
from forgekit.rag.index_tool import retrieval_tool
from forgekit.rag.keywords import KeywordConfig
from forgekit.rag.memory_store import (
    MemoryConfig,
    MemoryHit,
    MemoryRecord,
    MemoryScope,
    MemoryStore,
)
from forgekit.rag.metrics import average_precision, mrr, ndcg_at_k, recall_at_k
from forgekit.rag.pii import PIIConfig, PIIFilter, PIIPattern
from forgekit.rag.repomap import repo_map
from forgekit.rag.retrieval_eval import RetrievalReport, evaluate_retrieval
from forgekit.rag.search import SearchConfig, SearchHit, SearchResults
from forgekit.rag.solver import RagSolver

__all__ = [
    "AuditLog",
    "BeirDataset",
    "Chunk",
    "ChunkingConfig",
    "Document",
    "EmbeddingCache",
    "Index",
    "IndexConfig",
    "KeywordConfig",
    "LiteLLMEmbedder",
    "MemoryConfig",
    "MemoryHit",
    "MemoryRecord",
    "MemoryScope",
    "MemoryStore",
    "PIIConfig",
    "PIIFilter",
    "PIIPattern",
    "RagSolver",
    "RetrievalReport",
    "SearchConfig",
    "SearchHit",
    "SearchResults",
    "SentenceTransformerEmbedder",
    "UpdateReport",
    "aembed",
    "average_precision",
    "chunk_file",
    "chunk_markdown",
    "chunk_python",
    "chunk_text",
    "evaluate_retrieval",
    "load_beir",
    "make_embedder",
    "mrr",
    "ndcg_at_k",
    "recall_at_k",
    "repo_map",
    "retrieval_tool",
]

"""Chunkers: Markdown by headings, Python by top-level definitions, other text by token
windows with overlap, PDFs when `pypdf` is installed. Every chunk keeps its source, its
line span, its character offsets, metadata and a content hash."""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# a "token" here is a word or a punctuation mark: close to what BM25 and a reader count,
# within ~1.3x of a word-piece tokenizer, and free to compute
_TOKEN = re.compile(r"\w+|[^\w\s]")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^(```|~~~)")

CODE_SUFFIXES = {".py"}
MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdx"}
TEXT_SUFFIXES = {
    ".txt",
    ".rst",
    ".text",
    ".csv",
    ".json",
    ".yaml",
    ".yml",
    ".toml",
    ".ini",
    ".cfg",
    ".html",
    ".htm",
    ".xml",
    ".js",
    ".ts",
    ".java",
    ".go",
    ".rs",
    ".c",
    ".h",
    ".cpp",
    ".sh",
    ".sql",
    ".tex",
    ".ipynb",
}
PDF_SUFFIXES = {".pdf"}

# what a chunk was cut from (the chunker that made it)
ChunkKind = Literal["markdown", "python", "text", "pdf", "document"]


class ChunkingConfig(BaseModel):
    """How documents are cut into chunks.

    Attributes:
        chunk_size: most tokens (words and punctuation) in a window chunk.
        overlap: tokens shared by consecutive windows.
        max_section_tokens: a Markdown section or Python definition longer than this is
            cut further into windows.
        min_chunk_tokens: chunks shorter than this are merged into the previous one
            (Markdown sections only).
    """

    model_config = ConfigDict(extra="forbid")

    chunk_size: int = Field(default=200, ge=8)
    overlap: int = Field(default=40, ge=0)
    max_section_tokens: int = Field(default=400, ge=8)
    min_chunk_tokens: int = Field(default=8, ge=0)

    def model_post_init(self, __context: Any) -> None:
        if self.overlap >= self.chunk_size:
            from forgekit.core.errors import ConfigError

            raise ConfigError(
                f"overlap ({self.overlap}) must be smaller than chunk_size ({self.chunk_size})",
                key="overlap",
            )


class Chunk(BaseModel):
    """One piece of a document, as stored in the index."""

    model_config = ConfigDict(extra="forbid")

    source: str
    doc_id: str
    chunk_index: int
    text: str
    title: str = ""
    kind: ChunkKind = "text"
    section: str = ""
    start_line: int = 1
    end_line: int = 1
    start_char: int = 0
    end_char: int = 0
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def hash(self) -> str:
        """sha256 (first 32 hex digits) of what gets embedded: title and text."""
        return content_hash(self.embed_text)

    @property
    def embed_text(self) -> str:
        """The text the embedder sees: the title as a header, then the chunk."""
        return f"{self.title}\n{self.text}" if self.title else self.text

    @property
    def span(self) -> str:
        return f"{self.source}:{self.start_line}-{self.end_line}"


def content_hash(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:32]


def count_tokens(text: str) -> int:
    """Words and punctuation marks in `text` (the unit of chunk_size)."""
    return len(_TOKEN.findall(text))


class _Lines:
    """Maps character offsets to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        import bisect

        return bisect.bisect_right(self.starts, offset)

    def offset(self, line: int) -> int:
        return self.starts[min(max(line, 1), len(self.starts)) - 1]


def window_spans(text: str, start: int, end: int, cfg: ChunkingConfig) -> list[tuple[int, int]]:
    """Character spans of token windows over text[start:end], with overlap."""
    toks = [(m.start() + start, m.end() + start) for m in _TOKEN.finditer(text[start:end])]
    if not toks:
        return []
    if len(toks) <= cfg.chunk_size:
        return [(toks[0][0], toks[-1][1])]
    spans = []
    step = cfg.chunk_size - cfg.overlap
    i = 0
    while True:
        j = min(i + cfg.chunk_size, len(toks))
        spans.append((toks[i][0], toks[j - 1][1]))
        if j == len(toks):
            break
        i += step
    return spans


def _make(
    text: str,
    lines: _Lines,
    spans: list[tuple[int, int, str]],
    *,
    source: str,
    doc_id: str,
    kind: ChunkKind,
    title: str,
    metadata: dict[str, Any],
    first_index: int = 0,
) -> list[Chunk]:
    out: list[Chunk] = []
    for s, e, section in spans:
        body = text[s:e].strip()
        if not body:
            continue
        lead = len(text[s:e]) - len(text[s:e].lstrip())
        s2 = s + lead
        e2 = s2 + len(body)
        out.append(
            Chunk(
                source=source,
                doc_id=doc_id,
                chunk_index=first_index + len(out),
                text=body,
                title=title,
                kind=kind,
                section=section,
                start_line=lines.line(s2),
                end_line=lines.line(max(e2 - 1, s2)),
                start_char=s2,
                end_char=e2,
                metadata=dict(metadata),
            )
        )
    return out


def _split_long(
    text: str, s: int, e: int, section: str, cfg: ChunkingConfig
) -> list[tuple[int, int, str]]:
    if count_tokens(text[s:e]) <= cfg.max_section_tokens:
        return [(s, e, section)]
    return [(a, b, section) for a, b in window_spans(text, s, e, cfg)]


def chunk_markdown(
    text: str,
    *,
    source: str,
    doc_id: str | None = None,
    title: str = "",
    metadata: dict[str, Any] | None = None,
    cfg: ChunkingConfig | None = None,
) -> list[Chunk]:
    """Split Markdown at headings (not inside code fences); long sections go to windows.

    The section path ("Install > From source") is kept on each chunk.
    """
    cfg = cfg or ChunkingConfig()
    lines = _Lines(text)
    bounds: list[tuple[int, str]] = []  # (offset, heading path)
    path: list[tuple[int, str]] = []
    in_fence = False
    offset = 0
    for line in text.splitlines(keepends=True):
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
        elif not in_fence and (m := _HEADING.match(line.rstrip("\n"))):
            level = len(m.group(1))
            path = [p for p in path if p[0] < level] + [(level, m.group(2))]
            bounds.append((offset, " > ".join(p[1] for p in path)))
        offset += len(line)
    if not bounds or bounds[0][0] != 0:
        bounds.insert(0, (0, ""))
    sections: list[tuple[int, int, str]] = []
    for i, (s, name) in enumerate(bounds):
        e = bounds[i + 1][0] if i + 1 < len(bounds) else len(text)
        if not text[s:e].strip():
            continue
        # a section with only its heading merges into the next one
        if (
            sections
            and count_tokens(text[sections[-1][0] : sections[-1][1]]) < cfg.min_chunk_tokens
        ):
            ps, _, _ = sections.pop()
            s = ps
        sections.append((s, e, name))
    spans: list[tuple[int, int, str]] = []
    for s, e, name in sections:
        spans.extend(_split_long(text, s, e, name, cfg))
    return _make(
        text,
        lines,
        spans,
        source=source,
        doc_id=doc_id or source,
        kind="markdown",
        title=title,
        metadata=metadata or {},
    )


def chunk_python(
    text: str,
    *,
    source: str,
    doc_id: str | None = None,
    title: str = "",
    metadata: dict[str, Any] | None = None,
    cfg: ChunkingConfig | None = None,
) -> list[Chunk]:
    """One chunk per top-level function or class (with its decorators); the code between
    definitions (imports, constants) forms its own chunks. Unparseable code falls back to
    token windows."""
    cfg = cfg or ChunkingConfig()
    lines = _Lines(text)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return chunk_text(
            text,
            source=source,
            doc_id=doc_id,
            title=title,
            metadata=metadata,
            cfg=cfg,
            kind="python",
        )
    spans: list[tuple[int, int, str]] = []
    cursor = 0
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        first = min([node.lineno, *[d.lineno for d in node.decorator_list]])
        s = lines.offset(first)
        last = node.end_lineno or node.lineno  # always set by ast.parse
        e = lines.offset(last + 1) if last < len(lines.starts) else len(text)
        if text[cursor:s].strip():
            spans.extend(_split_long(text, cursor, s, "", cfg))
        kind = "class" if isinstance(node, ast.ClassDef) else "def"
        spans.extend(_split_long(text, s, e, f"{kind} {node.name}", cfg))
        cursor = e
    if text[cursor:].strip():
        spans.extend(_split_long(text, cursor, len(text), "", cfg))
    return _make(
        text,
        lines,
        spans,
        source=source,
        doc_id=doc_id or source,
        kind="python",
        title=title,
        metadata=metadata or {},
    )


def chunk_text(
    text: str,
    *,
    source: str,
    doc_id: str | None = None,
    title: str = "",
    metadata: dict[str, Any] | None = None,
    cfg: ChunkingConfig | None = None,
    kind: ChunkKind = "text",
) -> list[Chunk]:
    """Token windows of `cfg.chunk_size` with `cfg.overlap` tokens shared."""
    cfg = cfg or ChunkingConfig()
    lines = _Lines(text)
    spans = [(s, e, "") for s, e in window_spans(text, 0, len(text), cfg)]
    return _make(
        text,
        lines,
        spans,
        source=source,
        doc_id=doc_id or source,
        kind=kind,
        title=title,
        metadata=metadata or {},
    )


def read_pdf(path: Path) -> list[str]:
    """The text of each page of a PDF; needs `pypdf` (`pip install pypdf`)."""
    try:
        import pypdf
    except ImportError as e:
        from forgekit.core.errors import ConfigError

        raise ConfigError(f"{path}: indexing PDFs needs pypdf: pip install pypdf", file=path) from e
    reader = pypdf.PdfReader(str(path))
    return [page.extract_text() or "" for page in reader.pages]


def pdf_supported() -> bool:
    import importlib.util

    return importlib.util.find_spec("pypdf") is not None


def chunk_pdf(
    path: Path,
    *,
    source: str,
    cfg: ChunkingConfig | None = None,
    metadata: dict[str, Any] | None = None,
) -> list[Chunk]:
    """Token windows per page; `start_line`/`end_line` hold the page number."""
    cfg = cfg or ChunkingConfig()
    out: list[Chunk] = []
    for page_no, page in enumerate(read_pdf(path), start=1):
        for c in chunk_text(
            page, source=source, cfg=cfg, kind="pdf", metadata={**(metadata or {}), "page": page_no}
        ):
            out.append(
                c.model_copy(
                    update={"chunk_index": len(out), "start_line": page_no, "end_line": page_no}
                )
            )
    return out


def chunk_file(
    path: Path, *, source: str, data: bytes | None = None, cfg: ChunkingConfig | None = None
) -> list[Chunk]:
    """Chunk one file by its kind (its suffix)."""
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        return chunk_pdf(path, source=source, cfg=cfg)
    raw = path.read_bytes() if data is None else data
    text = raw.decode("utf-8", errors="replace")
    if suffix in MARKDOWN_SUFFIXES:
        return chunk_markdown(text, source=source, cfg=cfg)
    if suffix in CODE_SUFFIXES:
        return chunk_python(text, source=source, cfg=cfg)
    return chunk_text(text, source=source, cfg=cfg)


def chunk_document(
    text: str,
    *,
    doc_id: str,
    title: str = "",
    kind: str = "document",
    metadata: dict[str, Any] | None = None,
    cfg: ChunkingConfig | None = None,
) -> list[Chunk]:
    """Chunk an in-memory document (`kind` markdown/python picks those chunkers)."""
    if kind == "markdown":
        return chunk_markdown(text, source=doc_id, title=title, metadata=metadata, cfg=cfg)
    if kind == "python":
        return chunk_python(text, source=doc_id, title=title, metadata=metadata, cfg=cfg)
    return chunk_text(text, source=doc_id, title=title, metadata=metadata, cfg=cfg, kind="document")

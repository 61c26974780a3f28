"""Building and updating an index: ingest, embed, FAISS + BM25, write atomically.

Rows are always kept in one canonical order (documents by id, chunks in text
order), and FAISS and BM25 are rebuilt from the stored vectors and texts, so an
incremental update gives exactly the index a full rebuild would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from policybot.index.bm25 import BM25Index
from policybot.index.dense import DEFAULT_FACTORY, build_faiss
from policybot.index.embedder import Embedder
from policybot.index.lexicon import english_label
from policybot.index.store import IndexData, IndexMismatchError, Manifest, load_index, write_index
from policybot.ingest.pipeline import FileFailure, IngestOptions, ingest_paths
from policybot.ingest.records import Chunk, Document

# Model tokens kept free for the prompt, special tokens and the section line.
MODEL_TOKEN_RESERVE = 48


class NothingToIndexError(ValueError):
    """No document could be read from the given paths."""


class UnknownDocumentError(ValueError):
    """A document id that the index does not hold."""


@dataclass(frozen=True)
class BuildReport:
    manifest: Manifest
    added: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]
    failures: tuple[FileFailure, ...]
    embedded_chunks: int


def passage_text(chunk: Chunk) -> str:
    """What the embedding model and BM25 read for a chunk: its section path, then its text.

    The section path tells the model what a passage is about even when the passage
    itself only says "依托东湖高新区…"; the glossary's English names beside the
    Chinese ones let English questions meet Chinese passages halfway.

    >>> from policybot.ingest.records import Chunk
    >>> passage_text(Chunk("d:0-4", "d", "依托某区", ("未来健康", "脑机接口"), 0, 4, 3))
    '未来健康 (future health) › 脑机接口 (brain-computer interfaces)\\n依托某区'
    """
    # Only topic paths are repeated: a news headline stays in the text of the first chunk
    # under it, where it stands, rather than making every later chunk look like its match.
    topics = [english_label(part) for part in chunk.section if english_label(part) != part]
    if not topics:
        return chunk.text
    return " › ".join(topics) + "\n" + chunk.text


def _with_model_budget(options: IngestOptions, embedder: Embedder) -> IngestOptions:
    return replace(
        options,
        model_max_tokens=embedder.max_tokens - MODEL_TOKEN_RESERVE,
        model_count=embedder.count_tokens,
    )


def chunking_params(options: IngestOptions) -> dict[str, object]:
    return {
        "chunk_tokens": options.chunk_tokens,
        "overlap": options.overlap,
        "encoding": options.encoding,
        "model_max_tokens": options.model_max_tokens,
    }


def assemble(
    documents: Sequence[Document],
    chunks_by_doc: dict[str, list[Chunk]],
    vectors_by_doc: dict[str, np.ndarray],
    *,
    model_id: str,
    dim: int,
    chunking: dict[str, object],
    faiss_factory: str,
) -> IndexData:
    """Put documents, chunks and vectors in canonical order and build both retrievers."""
    docs = sorted(documents, key=lambda d: d.doc_id)
    chunks = [c for d in docs for c in chunks_by_doc[d.doc_id]]
    parts = [vectors_by_doc[d.doc_id] for d in docs]
    vectors = np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, dim), np.float32)
    manifest = Manifest(
        model_id=model_id,
        dim=dim,
        chunking=chunking,
        faiss_factory=faiss_factory,
        documents={d.doc_id: d.sha256 for d in docs},
        counts={"documents": len(docs), "chunks": len(chunks)},
    )
    faiss_index = build_faiss(vectors, faiss_factory)
    bm25 = BM25Index.build([passage_text(c) for c in chunks])
    return IndexData(manifest, list(docs), chunks, vectors, faiss_index, bm25)


def _embed(chunks: list[Chunk], embedder: Embedder, progress: bool) -> np.ndarray:
    if not chunks:
        return np.zeros((0, embedder.dim), np.float32)
    return np.asarray(embedder.embed_passages([passage_text(c) for c in chunks], progress=progress), np.float32)


def _split_by_doc(chunks: Sequence[Chunk], vectors: np.ndarray) -> tuple[dict[str, list[Chunk]], dict[str, np.ndarray]]:
    by_doc: dict[str, list[int]] = {}
    for i, c in enumerate(chunks):
        by_doc.setdefault(c.doc_id, []).append(i)
    return (
        {d: [chunks[i] for i in rows] for d, rows in by_doc.items()},
        {d: vectors[rows] for d, rows in by_doc.items()},
    )


def build_index(
    paths: Sequence[Path],
    out: Path,
    *,
    embedder: Embedder,
    options: IngestOptions | None = None,
    faiss_factory: str = DEFAULT_FACTORY,
    progress: bool = False,
) -> BuildReport:
    """Index every readable file under `paths` into the folder `out` (replacing it atomically)."""
    opts = _with_model_budget(options or IngestOptions(), embedder)
    result = ingest_paths(paths, options=opts, progress=progress)
    if not result.documents:
        reasons = "; ".join(f"{f.path}: {f.reason}" for f in result.failures) or "no supported files found"
        raise NothingToIndexError(f"nothing to index ({reasons})")
    vectors = _embed(list(result.chunks), embedder, progress)
    chunks_by_doc, vectors_by_doc = _split_by_doc(result.chunks, vectors)
    for d in result.documents:
        chunks_by_doc.setdefault(d.doc_id, [])
        vectors_by_doc.setdefault(d.doc_id, np.zeros((0, embedder.dim), np.float32))
    data = assemble(
        result.documents, chunks_by_doc, vectors_by_doc,
        model_id=embedder.model_id, dim=embedder.dim, chunking=chunking_params(opts), faiss_factory=faiss_factory,
    )
    manifest = write_index(out, data)
    ids = tuple(sorted(d.doc_id for d in result.documents))
    return BuildReport(manifest, ids, (), (), (), result.failures, len(result.chunks))


def _check_model(folder: Path, manifest: Manifest, embedder: Embedder) -> None:
    if manifest.model_id != embedder.model_id or manifest.dim != embedder.dim:
        raise IndexMismatchError(
            f"the index at {folder} was built with model {manifest.model_id!r} ({manifest.dim}-d), "
            f"not {embedder.model_id!r} ({embedder.dim}-d); use the same model, or rebuild with: "
            f"policybot index --out {folder} --model ..."
        )


def _options_from(manifest: Manifest) -> IngestOptions:
    c = manifest.chunking
    return IngestOptions(chunk_tokens=int(c["chunk_tokens"]), overlap=int(c["overlap"]), encoding=str(c["encoding"]))


def add_to_index(
    folder: Path, paths: Sequence[Path], *, embedder: Embedder, progress: bool = False
) -> BuildReport:
    """Add new documents and re-index changed ones (by content hash); others are untouched."""
    current = load_index(folder)
    _check_model(folder, current.manifest, embedder)
    opts = _with_model_budget(_options_from(current.manifest), embedder)
    known = {d.doc_id: d.path for d in current.documents}
    result = ingest_paths(paths, options=opts, progress=progress, known_ids=known)
    old_docs = {d.doc_id: d for d in current.documents}
    chunks_by_doc, vectors_by_doc = _split_by_doc(current.chunks, current.vectors)
    fresh = [d for d in result.documents if old_docs.get(d.doc_id) is None or old_docs[d.doc_id].sha256 != d.sha256]
    fresh_ids = {d.doc_id for d in fresh}
    new_chunks = [c for c in result.chunks if c.doc_id in fresh_ids]
    new_vectors = _embed(new_chunks, embedder, progress)
    add_chunks, add_vectors = _split_by_doc(new_chunks, new_vectors)
    for d in fresh:
        old_docs[d.doc_id] = d
        chunks_by_doc[d.doc_id] = add_chunks.get(d.doc_id, [])
        vectors_by_doc[d.doc_id] = add_vectors.get(d.doc_id, np.zeros((0, embedder.dim), np.float32))
    for d in old_docs:
        chunks_by_doc.setdefault(d, [])
        vectors_by_doc.setdefault(d, np.zeros((0, embedder.dim), np.float32))
    manifest = current.manifest
    if fresh:
        data = assemble(
            list(old_docs.values()), chunks_by_doc, vectors_by_doc,
            model_id=manifest.model_id, dim=manifest.dim, chunking=manifest.chunking,
            faiss_factory=manifest.faiss_factory,
        )
        manifest = write_index(folder, data)
    was = set(current.manifest.documents)
    return BuildReport(
        manifest,
        added=tuple(sorted(i for i in fresh_ids if i not in was)),
        updated=tuple(sorted(i for i in fresh_ids if i in was)),
        unchanged=tuple(sorted(d.doc_id for d in result.documents if d.doc_id not in fresh_ids)),
        removed=(),
        failures=result.failures,
        embedded_chunks=len(new_chunks),
    )


def remove_from_index(folder: Path, doc_ids: Sequence[str]) -> BuildReport:
    """Remove documents by id; no model is needed, since the other vectors are kept."""
    current = load_index(folder)
    missing = [d for d in doc_ids if d not in current.manifest.documents]
    if missing:
        known = ", ".join(sorted(current.manifest.documents)) or "(none)"
        raise UnknownDocumentError(f"not in the index: {', '.join(missing)}; documents are: {known}")
    keep = [d for d in current.documents if d.doc_id not in set(doc_ids)]
    chunks_by_doc, vectors_by_doc = _split_by_doc(current.chunks, current.vectors)
    for d in keep:
        chunks_by_doc.setdefault(d.doc_id, [])
        vectors_by_doc.setdefault(d.doc_id, np.zeros((0, current.manifest.dim), np.float32))
    m = current.manifest
    data = assemble(
        keep, chunks_by_doc, vectors_by_doc,
        model_id=m.model_id, dim=m.dim, chunking=m.chunking, faiss_factory=m.faiss_factory,
    )
    manifest = write_index(folder, data)
    return BuildReport(manifest, (), (), tuple(d.doc_id for d in keep), tuple(sorted(doc_ids)), (), 0)

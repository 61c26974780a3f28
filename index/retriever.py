"""Dense, BM25 and hybrid (reciprocal-rank fusion) retrieval over a loaded index."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np

from policybot.index.dense import search_faiss, search_subset
from policybot.index.embedder import Embedder
from policybot.index.lexicon import english_to_chinese, has_cjk
from policybot.index.records import Hit
from policybot.index.store import IndexData, IndexMismatchError, load_index

MODES = ("hybrid", "dense", "bm25")
RRF_K = 60


def bridged_query(question: str, *, limit: int = 6) -> str:
    """An English question with the Chinese names of the topics it mentions appended.

    The multilingual model links "brain-computer interface" to 脑机接口 only loosely;
    naming the Chinese term outright (from the glossary and gazetteer) tightens it.

    >>> bridged_query("Which districts host brain-computer interface work?")
    'Which districts host brain-computer interface work? (脑机接口)'
    >>> bridged_query("哪些区发展脑机接口?")
    '哪些区发展脑机接口?'
    """
    if has_cjk(question):
        return question
    terms = english_to_chinese(question, topics_only=True)[:limit]
    return f"{question} ({' '.join(terms)})" if terms else question


class UnknownModeError(ValueError):
    """A retrieval mode other than hybrid, dense or bm25."""


def rrf_fuse(rankings: dict[str, list[tuple[int, float]]], *, rrf_k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion: score(row) = sum over retrievers of 1 / (rrf_k + rank).

    >>> [(row, round(s, 4)) for row, s in rrf_fuse({"dense": [(7, .9), (3, .8)], "bm25": [(3, 5.0)]}, rrf_k=60)]
    [(3, 0.0325), (7, 0.0164)]
    """
    fused: dict[int, float] = {}
    for ranked in rankings.values():
        for rank, (row, _) in enumerate(ranked, start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (rrf_k + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


class Retriever:
    """Searches one index with one embedder (the model the index was built with)."""

    def __init__(self, data: IndexData, embedder: Embedder, *, depth: int = 50) -> None:
        m = data.manifest
        if m.model_id != embedder.model_id or m.dim != embedder.dim:
            raise IndexMismatchError(
                f"this index was built with model {m.model_id!r} ({m.dim}-d), not {embedder.model_id!r} "
                f"({embedder.dim}-d); pass --model {m.model_id} or rebuild the index with the new model"
            )
        self.data = data
        self.embedder = embedder
        self.depth = depth
        self._rows_by_doc: dict[str, np.ndarray] = {}
        for i, c in enumerate(data.chunks):
            self._rows_by_doc.setdefault(c.doc_id, [])  # type: ignore[arg-type]
            self._rows_by_doc[c.doc_id].append(i)  # type: ignore[attr-defined]
        self._rows_by_doc = {d: np.asarray(r, dtype=np.int64) for d, r in self._rows_by_doc.items()}

    @classmethod
    def open(cls, folder: Path, embedder: Embedder) -> Retriever:
        return cls(load_index(folder), embedder)

    def embed_query(self, question: str) -> np.ndarray:
        return np.asarray(self.embedder.embed_queries([bridged_query(question)])[0], dtype=np.float32)

    def _allowed_rows(self, doc_ids: Collection[str] | None) -> np.ndarray | None:
        if doc_ids is None:
            return None
        unknown = [d for d in doc_ids if d not in self.data.manifest.documents]
        if unknown:
            raise UnknownModeError(f"no document {', '.join(unknown)} in the index")
        parts = [self._rows_by_doc.get(d, np.zeros(0, np.int64)) for d in doc_ids]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)

    def rankings(
        self, question: str, *, mode: str = "hybrid", depth: int | None = None,
        doc_ids: Collection[str] | None = None, query_vector: np.ndarray | None = None,
    ) -> dict[str, list[tuple[int, float]]]:
        """Each retriever's own (row, score) ranking, best first."""
        if mode not in MODES:
            raise UnknownModeError(f"unknown retrieval mode {mode!r}; use one of {', '.join(MODES)}")
        depth = depth or self.depth
        rows = self._allowed_rows(doc_ids)
        out: dict[str, list[tuple[int, float]]] = {}
        if mode in ("hybrid", "dense"):
            q = self.embed_query(question) if query_vector is None else query_vector
            out["dense"] = (
                search_faiss(self.data.faiss_index, q, k=depth)
                if rows is None
                else search_subset(self.data.vectors, q, rows, k=depth)
            )
        if mode in ("hybrid", "bm25"):
            allowed = None
            if rows is not None:
                allowed = np.zeros(len(self.data.chunks), dtype=bool)
                allowed[rows] = True
            out["bm25"] = self.data.bm25.search(question, k=depth, allowed=allowed)
        return out

    def search(
        self, question: str, *, k: int = 10, mode: str = "hybrid", doc_ids: Collection[str] | None = None
    ) -> list[Hit]:
        """The top `k` chunks for `question`, with which retriever found each and at what rank."""
        ranked = self.rankings(question, mode=mode, depth=max(self.depth, k), doc_ids=doc_ids)
        per_rank = {name: {row: r for r, (row, _) in enumerate(lst, start=1)} for name, lst in ranked.items()}
        per_score = {name: dict(lst) for name, lst in ranked.items()}
        fused = rrf_fuse(ranked) if mode == "hybrid" else ranked[mode]
        hits = []
        for row, score in fused[:k]:
            found = tuple(name for name in ranked if row in per_rank[name])
            hits.append(
                Hit(
                    chunk=self.data.chunks[row],
                    score=float(score),
                    retrievers=found,
                    ranks={name: per_rank[name][row] for name in found},
                    scores={name: per_score[name][row] for name in found},
                )
            )
        return hits

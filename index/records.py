"""Records produced by retrieval."""

from __future__ import annotations

from dataclasses import dataclass, field

from policybot.ingest.records import Chunk


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk.

    `score` is the fused score (reciprocal-rank fusion for hybrid search, the
    retriever's own score otherwise); `retrievers` names who found it
    ("dense", "bm25"), and `ranks` gives its 1-based rank in each of them.
    """

    chunk: Chunk
    score: float
    retrievers: tuple[str, ...]
    ranks: dict[str, int] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)

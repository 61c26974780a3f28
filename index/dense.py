"""The FAISS side: inner product over L2-normalized vectors, any factory string."""

from __future__ import annotations

from pathlib import Path

import numpy as np

DEFAULT_FACTORY = "Flat"


class FaissSpecError(ValueError):
    """A FAISS factory string that cannot be built or trained on these vectors."""


def build_faiss(vectors: np.ndarray, factory: str = DEFAULT_FACTORY):  # type: ignore[no-untyped-def]
    """Build (and train, if the index type needs it) a FAISS index over `vectors`.

    Vectors are added in row order, so row i of the store is FAISS id i.
    """
    import faiss

    n, dim = vectors.shape
    try:
        index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as exc:
        raise FaissSpecError(
            f"FAISS cannot build {factory!r}: {str(exc).strip().splitlines()[-1]}. "
            "Examples: Flat, HNSW32, IVF256,Flat, IVF1024,PQ32"
        ) from exc
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if not index.is_trained:
        try:
            index.train(x)
        except RuntimeError as exc:
            raise FaissSpecError(
                f"FAISS could not train {factory!r} on {n} vectors ({str(exc).strip().splitlines()[-1]}); "
                "use fewer clusters or the default Flat index for small corpora"
            ) from exc
    if n:
        index.add(x)
    return index


def save_faiss(index, path: Path) -> None:  # type: ignore[no-untyped-def]
    import faiss

    faiss.write_index(index, str(path))


def load_faiss(path: Path):  # type: ignore[no-untyped-def]
    import faiss

    return faiss.read_index(str(path))


def search_faiss(index, query: np.ndarray, *, k: int) -> list[tuple[int, float]]:  # type: ignore[no-untyped-def]
    """(row, inner product) pairs, best first."""
    if index.ntotal == 0:
        return []
    q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    scores, ids = index.search(q, min(k, index.ntotal))
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


def search_subset(vectors: np.ndarray, query: np.ndarray, rows: np.ndarray, *, k: int) -> list[tuple[int, float]]:
    """Exact inner-product search among `rows` only (document filters).

    Exact search over the stored vectors works with every FAISS index type and
    is cheap for the subsets a filter selects.
    """
    if len(rows) == 0:
        return []
    scores = vectors[rows] @ query.astype(np.float32)
    order = np.argsort(-scores, kind="stable")[:k]
    return [(int(rows[i]), float(scores[i])) for i in order]

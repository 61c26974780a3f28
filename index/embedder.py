"""What the index needs from an embedding model, and a deterministic fake for tests."""

from __future__ import annotations

import hashlib
import re
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalized float32 row vectors."""

    @property
    def model_id(self) -> str:
        """A name that identifies the model (recorded in the index manifest)."""
        ...

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """The longest input (in the model's own tokens, specials included) it reads whole."""
        ...

    def embed_passages(self, texts: list[str], *, progress: bool = False) -> np.ndarray: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int:
        """Model tokens `text` takes as a passage, prompt and specials included."""
        ...


class FakeEmbedder:
    """Hashes character bigrams into a small vector: deterministic, instant, no model.

    Texts that share bigrams get similar vectors, which is enough for unit tests of
    the index and retrieval logic.

    >>> e = FakeEmbedder(dim=16)
    >>> v = e.embed_passages(["脑机接口"])
    >>> v.shape, round(float((v * v).sum()), 3)
    ((1, 16), 1.0)
    """

    def __init__(self, *, dim: int = 64, max_tokens: int = 512, model_id: str = "fake-bigram") -> None:
        self._dim = dim
        self._max_tokens = max_tokens
        self._model_id = model_id

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self._dim, dtype=np.float32)
        s = re.sub(r"\s+", "", text.lower())
        grams = [s[i : i + 2] for i in range(max(len(s) - 1, 1))] or [s]
        for g in grams:
            h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest(), "little")
            v[h % self._dim] += 1.0
        n = float(np.linalg.norm(v))
        if n == 0.0:
            v[0] = 1.0
            n = 1.0
        return v / n

    def embed_passages(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self._dim), np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def count_tokens(self, text: str) -> int:
        return len(text) + 2

"""BM25 over jieba tokens (bm25s), with domain words kept whole. Saved without pickle."""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

import numpy as np

from policybot.index.lexicon import domain_words, english_to_chinese, has_cjk

# Function words that carry no meaning for retrieval, in both languages.
_STOP = frozenset(
    "的 了 和 与 及 等 在 是 为 对 将 把 被 由 其 之 以 于 并 或 也 都 而 个 该 这 那 有 中 上 下 "
    "哪些 哪个 什么 怎么 如何 多少 是否 吗 呢 呀 哪里 哪儿 哪 "
    "a an the of to in on for and or is are was were be been by with as at from that this these those "
    "which what where who whom how many much does do did it its their there has have had will would "
    "can could should about into than then so such any all each".split()
)
_TOKEN_OK = re.compile(r"[\w\u3400-\u9fff]")


@functools.lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]
    """A private jieba tokenizer with the domain words added (no global state touched)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    for word in domain_words():
        tk.add_word(word, freq=200000)
    return tk


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens, lower-cased, without punctuation or stop words.

    >>> tokenize("脑机接口依托东湖高新区、洪山区等区")
    ['脑机', '接口', '脑机接口', '依托', '高新', '新区', '东湖高新区', '洪山', '洪山区', '区']
    """
    text = unicodedata.normalize("NFKC", text).lower()
    out = []
    for tok in _jieba().cut_for_search(text):
        tok = tok.strip()
        if tok and tok not in _STOP and _TOKEN_OK.search(tok):
            out.append(tok)
    return out


def query_tokens(question: str) -> list[str]:
    """Tokens of a question; English questions also get the Chinese forms of terms they name."""
    tokens = tokenize(question)
    if not has_cjk(question):
        for zh in english_to_chinese(question):
            tokens.extend(tokenize(zh))
    return tokens


class BM25Index:
    """Lexical index over chunk texts; row i is chunk i of the store."""

    def __init__(self, model) -> None:  # type: ignore[no-untyped-def]
        self._model = model

    @classmethod
    def build(cls, texts: list[str]) -> BM25Index:
        import bm25s

        model = bm25s.BM25(k1=1.2, b=0.75)
        corpus = [tokenize(t) or ["∅"] for t in texts]
        model.index(corpus, show_progress=False)
        return cls(model)

    @property
    def num_docs(self) -> int:
        return int(self._model.scores["num_docs"])

    def save(self, folder: Path) -> None:
        self._model.save(str(folder), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        import bm25s

        return cls(bm25s.BM25.load(str(folder), allow_pickle=False, mmap=False))

    def search(self, question: str, *, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, score) pairs, best first; rows where `allowed` is False are excluded."""
        tokens = query_tokens(question)
        n = self.num_docs
        if not tokens or n == 0:
            return []
        scores = self._model.get_scores(tokens)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        k = min(k, n)
        top = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

"""The answering service: one loaded index + model + optional LLM, shared by CLI, chat and REST."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from policybot.bot.records import Answer
from policybot.bot.settings import Settings

MAX_QUESTION_CHARS = 2000


class QuestionError(ValueError):
    """A question that cannot be answered as asked (empty, too long)."""


def check_question(question: str) -> str:
    """Strip a question and reject empty or over-long ones with a message saying why.

    >>> check_question("  哪些区?  ")
    '哪些区?'
    """
    q = (question or "").strip()
    if not q:
        raise QuestionError("the question is empty")
    if len(q) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is {len(q)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return q


@dataclass(frozen=True)
class AnswerEvent:
    """One step of a streamed answer: growing `text`, then a final event carrying the Answer."""

    text: str
    answer: Answer | None = None


class Bot:
    """Answers questions over one index. Thread-safe for concurrent `answer` calls."""

    def __init__(self, retriever: Any, settings: Settings) -> None:
        from policybot.bot.answerer import ExtractiveAnswerer

        self.retriever = retriever
        self.settings = settings
        self.extractive = ExtractiveAnswerer(retriever)
        self._lock = threading.Lock()  # torch inference on 2 cores gains nothing from parallel calls
        self.ready_seconds: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, build_if_missing: bool = False, args: Any = None) -> Bot:
        """Load the index at `settings.index_dir` (building the default one first if asked)."""
        import argparse

        from policybot.bot.commands import open_retriever

        started = time.perf_counter()
        ns = args or argparse.Namespace(model=None, query_prompt=None, passage_prompt=None)
        retriever = open_retriever(settings, ns, build_if_missing=build_if_missing)
        bot = cls(retriever, settings)
        bot.answer("warm-up")  # first call pays for lazy initialisation (tokenizers, jieba)
        bot.ready_seconds = time.perf_counter() - started
        return bot

    @property
    def llm_available(self) -> bool:
        return bool(self.settings.llm)

    def answer(self, question: str, *, k: int | None = None, use_llm: bool | None = None) -> Answer:
        """Answer one question; with an LLM configured (and `use_llm` not False) the LLM writes it."""
        final: Answer | None = None
        for event in self.stream(question, k=k, use_llm=use_llm):
            final = event.answer or final
        assert final is not None
        return final

    def stream(self, question: str, *, k: int | None = None, use_llm: bool | None = None) -> Iterator[AnswerEvent]:
        """Yield the answer as it is written; the last event carries the complete Answer."""
        q = check_question(question)
        kk = k or self.settings.k
        with self._lock:
            hits = self.extractive.retrieve(q, k=kk)
            extractive = self.extractive.compose(q, hits, k=kk)
        if not (self.llm_available and use_llm is not False):
            yield AnswerEvent(extractive.text, extractive)
            return
        from policybot.bot.llm import LLMAnswerer

        llm = LLMAnswerer.from_settings(self.settings)
        yield from llm.stream(q, hits, fallback=extractive, documents=self.extractive.doc_texts)

    def health(self) -> dict[str, object]:
        m = self.retriever.data.manifest
        return {
            "status": "ok",
            "index": str(self.settings.index_dir),
            "model": m.model_id,
            "dimension": m.dim,
            "documents": m.counts["documents"],
            "chunks": m.counts["chunks"],
            "faiss": m.faiss_factory,
            "llm": self.settings.llm or None,
            "ready_seconds": None if self.ready_seconds is None else round(self.ready_seconds, 2),
        }


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

"""Records produced by the answering stage (the JSON schema of `policybot ask --json`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Citation:
    """One `[n]` in an answer: the exact source sentence it stands for.

    `quote` is `text[...]` of the cited chunk's document between `start` and
    `end` (character offsets into the cleaned document); `text` is the whole
    cited chunk, so a UI can show the passage and highlight the quote inside it.
    """

    n: int
    chunk_id: str
    doc_id: str
    section: tuple[str, ...]
    quote: str
    text: str
    start: int
    end: int
    score: float

    def to_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "section": list(self.section),
            "quote": self.quote,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "score": round(float(self.score), 6),
        }


@dataclass(frozen=True)
class Answer:
    """The bot's reply to one question."""

    question: str
    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    language: str
    notes: tuple[str, ...] = ()
    related: tuple[Citation, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        """The public JSON shape (DESIGN.md): question, answer, abstained, language, citations."""
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "language": self.language,
            "citations": [c.to_dict() for c in self.citations],
        }

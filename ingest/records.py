"""Records produced by the ingest stage and read by every later stage."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A structural block of a cleaned document: the text under one heading path.

    `start`/`end` are character offsets into `Document.text`.
    """

    path: tuple[str, ...]
    start: int
    end: int


@dataclass(frozen=True)
class DroppedLine:
    """A line (or a line's prefix) removed by cleaning, and the rule that removed it."""

    text: str
    reason: str


@dataclass(frozen=True)
class Document:
    """One cleaned source file.

    `text` is the cleaned text; `offsets[i]` is the offset in `raw` of cleaned
    character `i` (len(offsets) == len(text) + 1, the last entry is the raw end),
    so any span of `text` maps back to the original file.
    """

    doc_id: str
    path: str
    title: str
    text: str
    raw: str
    offsets: tuple[int, ...]
    sha256: str
    encoding: str
    lead: str = ""
    sections: tuple[Section, ...] = ()
    headings: tuple[tuple[int, int], ...] = ()
    dropped_lines: tuple[DroppedLine, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the cleaned text to the span of the raw file text it came from."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span {start}:{end} is outside the document ({len(self.text)} chars)")
        if start == end:
            return self.offsets[start], self.offsets[start]
        return self.offsets[start], self.offsets[end - 1] + 1


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of a document.

    `text == document.text[start:end]`; `section` is the heading path it sits
    under, e.g. ("未来健康", "脑机接口"); `tokens` is its length in the configured
    tiktoken encoding.
    """

    id: str
    doc_id: str
    text: str
    section: tuple[str, ...]
    start: int
    end: int
    tokens: int

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "doc_id": self.doc_id,
            "text": self.text,
            "section": list(self.section),
            "start": self.start,
            "end": self.end,
            "tokens": self.tokens,
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> Chunk:
        section = d["section"]
        if not isinstance(section, list):
            raise ValueError("chunk record: 'section' must be a list")
        return cls(
            id=str(d["id"]),
            doc_id=str(d["doc_id"]),
            text=str(d["text"]),
            section=tuple(str(s) for s in section),
            start=int(d["start"]),  # type: ignore[call-overload]
            end=int(d["end"]),  # type: ignore[call-overload]
            tokens=int(d["tokens"]),  # type: ignore[call-overload]
        )

"""Sentence-aware chunking with token budgets.

Chunks never cross a section boundary and never split a sentence, unless that
sentence alone is over the budget (then it is cut at commas, and as a last resort
inside a clause). Headings are glued to the sentence after them: a heading is
context for the text beneath it, never a chunk of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from policybot.ingest.records import Chunk, Section
from policybot.ingest.sentences import split_clauses, split_sentences

Counter = Callable[[str], int]


class ChunkingError(ValueError):
    """Chunking parameters that cannot work (e.g. a budget smaller than one character)."""


@dataclass(frozen=True)
class ChunkBudget:
    """How big a chunk may be.

    `max_tokens` is measured with `count` (tiktoken); when a model counter is
    given, a chunk must also stay within `model_max_tokens` of the model's own
    tokens, so the embedding model reads it whole.
    """

    max_tokens: int
    count: Counter
    overlap_tokens: int = 0
    model_max_tokens: int | None = None
    model_count: Counter | None = None

    def fits(self, text: str) -> bool:
        if self.count(text) > self.max_tokens:
            return False
        if self.model_count is not None and self.model_max_tokens is not None:
            return self.model_count(text) <= self.model_max_tokens
        return True


def _hard_split(text: str, a: int, b: int, budget: ChunkBudget) -> list[tuple[int, int]]:
    """Cut text[a:b] into the fewest prefix-greedy pieces that fit (binary search per piece)."""
    pieces: list[tuple[int, int]] = []
    while a < b:
        while a < b and text[a].isspace():
            a += 1
        if a >= b:
            break
        lo, hi = a + 1, b
        if not budget.fits(text[a:lo]):
            raise ChunkingError(f"chunk budget of {budget.max_tokens} tokens is smaller than one character")
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if budget.fits(text[a:mid]):
                lo = mid
            else:
                hi = mid - 1
        end = lo
        while end > a and text[end - 1].isspace():
            end -= 1
        pieces.append((a, end))
        a = lo
    return pieces


def _units(text: str, section: Section, budget: ChunkBudget, glued: set[int]) -> list[tuple[int, int]]:
    """The indivisible pieces of a section: sentences, or parts of over-long ones.

    A unit starting at an offset in `glued` (a heading or title line) is joined to
    the unit after it.
    """
    units: list[tuple[int, int]] = []
    for a, b in split_sentences(text, start=section.start, end=section.end):
        if budget.fits(text[a:b]):
            units.append((a, b))
            continue
        for ca, cb in split_clauses(text, a, b):
            units.extend([(ca, cb)] if budget.fits(text[ca:cb]) else _hard_split(text, ca, cb, budget))
    merged: list[tuple[int, int]] = []
    carry: int | None = None
    for a, b in units:
        start = a if carry is None else carry
        if a in glued and (a, b) != units[-1]:
            carry = start
            continue
        carry = None
        if start != a and not budget.fits(text[start:b]):
            merged.extend(_hard_split(text, start, b, budget))
        else:
            merged.append((start, b))
    return merged


def chunk_sections(
    text: str,
    sections: Sequence[Section],
    budget: ChunkBudget,
    *,
    doc_id: str,
    glued: Sequence[int] = (),
) -> list[Chunk]:
    """Pack each section's sentences greedily into chunks within `budget`.

    Consecutive chunks of one section share up to `budget.overlap_tokens` tokens
    of whole trailing sentences. `glued` lists offsets where a heading starts.

    >>> from policybot.ingest.records import Section
    >>> t = "甲乙。丙丁。戊己。"
    >>> b = ChunkBudget(max_tokens=6, count=len)
    >>> [c.text for c in chunk_sections(t, [Section((), 0, len(t))], b, doc_id="d")]
    ['甲乙。丙丁。', '戊己。']
    """
    if budget.max_tokens < 1:
        raise ChunkingError("chunk budget must be at least 1 token")
    glued_set = set(glued)
    chunks: list[Chunk] = []
    for section in sections:
        units = _units(text, section, budget, glued_set)
        i = 0
        while i < len(units):
            start = units[i][0]
            j = i
            while j + 1 < len(units) and budget.fits(text[start : units[j + 1][1]]):
                j += 1
            end = units[j][1]
            chunk_text = text[start:end]
            chunks.append(
                Chunk(
                    id=f"{doc_id}:{start}-{end}",
                    doc_id=doc_id,
                    text=chunk_text,
                    section=section.path,
                    start=start,
                    end=end,
                    tokens=budget.count(chunk_text),
                )
            )
            if j + 1 >= len(units):
                break
            # Step back over trailing sentences that fit the overlap, keeping room for new text.
            nxt = j + 1
            back = nxt
            while (
                back - 1 > i
                and budget.overlap_tokens > 0
                and budget.count(text[units[back - 1][0] : units[j][1]]) <= budget.overlap_tokens
                and budget.fits(text[units[back - 1][0] : units[nxt][1]])
            ):
                back -= 1
            i = back
    return chunks

"""Sentence splitting for Chinese and English text, as character spans."""

from __future__ import annotations

import re

# A sentence ends at a CJK stop, ! ? ; (either width), an ellipsis, or an English
# full stop followed by space; trailing closing quotes and brackets stay with it.
# A line break always ends a sentence (paragraphs are lines after cleaning).
_END = re.compile(
    r"(?:[。！？!?；;]+|…+|\.(?=\s|$))[”’\"'」』）)】]*|\n"
)
# A full stop after these is not the end of a sentence.
_ABBREV = re.compile(r"(?:\b[A-Z]|\b(?:Mr|Dr|Ms|No|vs|St|Co|Inc|Ltd|etc|e\.g|i\.e|Fig|approx))\.$")


def split_sentences(text: str, *, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans (start, end) of the sentences in `text[start:end]`, whitespace trimmed.

    Spans cover every non-space character of the range exactly once.

    >>> t = "在未来健康方向,重点发展生物制造、脑机接口。脑机接口依托东湖高新区;Done. Next one"
    >>> [t[a:b] for a, b in split_sentences(t)]
    ['在未来健康方向,重点发展生物制造、脑机接口。', '脑机接口依托东湖高新区;', 'Done.', 'Next one']
    """
    stop = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _END.finditer(text, start, stop):
        if m.group().startswith(".") and _ABBREV.search(text, max(pos, m.start() - 8), m.start() + 1):
            continue
        _add(text, pos, m.end(), spans)
        pos = m.end()
    _add(text, pos, stop, spans)
    return spans


def _add(text: str, a: int, b: int, spans: list[tuple[int, int]]) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if a < b:
        spans.append((a, b))


def split_clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split one over-long sentence at commas (either width) and enumeration marks.

    >>> t = "甲,乙、丙"
    >>> [t[a:b] for a, b in split_clauses(t, 0, len(t))]
    ['甲,', '乙、', '丙']
    """
    spans: list[tuple[int, int]] = []
    pos = start
    for m in re.finditer(r"[,，、:：]", text[start:end]):
        cut = start + m.end()
        _add(text, pos, cut, spans)
        pos = cut
    _add(text, pos, end, spans)
    return spans

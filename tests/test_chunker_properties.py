"""Property tests: spans map back exactly, every chunk is within budget, no text is lost."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policybot.ingest.chunker import ChunkBudget, chunk_sections
from policybot.ingest.records import Section
from policybot.ingest.sentences import split_sentences
from policybot.ingest.structure import find_structure
from policybot.ingest.tokens import token_counter

COUNT = token_counter("cl100k_base")

_pieces = st.sampled_from(
    ["武汉", "未来产业", "脑机接口", "东湖高新区", "依托", "Micro LED", "quantum", "1000亿元", "2027年", "AI",
     "。", ",", "、", "；", "!", "?", ". ", " ", "\n", "\n\n", "“大脑”", "(E级算力)", "x" * 30]
)
texts = st.lists(_pieces, min_size=0, max_size=120).map("".join)


def _check(text: str, chunks, budget: ChunkBudget) -> None:  # type: ignore[no-untyped-def]
    covered = [False] * len(text)
    for c in chunks:
        assert text[c.start : c.end] == c.text  # spans map back to the exact source text
        assert c.tokens == COUNT(c.text) <= budget.max_tokens  # within budget
        assert c.text.strip() == c.text and c.text  # no empty or padded chunks
        for i in range(c.start, c.end):
            covered[i] = True
    lost = [ch for ch, ok in zip(text, covered, strict=True) if not ok and not ch.isspace()]
    assert lost == []  # nothing but whitespace falls between chunks


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, max_tokens=st.integers(min_value=4, max_value=80), overlap=st.integers(min_value=0, max_value=30))
def test_single_section(text: str, max_tokens: int, overlap: int) -> None:
    budget = ChunkBudget(max_tokens=max_tokens, count=COUNT, overlap_tokens=overlap)
    chunks = chunk_sections(text, [Section((), 0, len(text))], budget, doc_id="d")
    _check(text, chunks, budget)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, max_tokens=st.integers(min_value=8, max_value=120))
def test_structured_sections_with_headings(text: str, max_tokens: int) -> None:
    structure = find_structure(text)
    budget = ChunkBudget(max_tokens=max_tokens, count=COUNT, overlap_tokens=10)
    glued = [a for a, _ in structure.headings]
    chunks = chunk_sections(text, structure.sections, budget, doc_id="d", glued=glued)
    _check(text, chunks, budget)
    for c in chunks:  # chunks never cross a section boundary
        assert any(s.start <= c.start and c.end <= s.end for s in structure.sections)


@settings(max_examples=60, deadline=None)
@given(text=texts)
def test_sentences_never_split_when_they_fit(text: str) -> None:
    budget = ChunkBudget(max_tokens=200, count=COUNT)
    chunks = chunk_sections(text, [Section((), 0, len(text))], budget, doc_id="d")
    bounds = {c.start for c in chunks} | {c.end for c in chunks}
    sentence_bounds = {a for a, _ in split_sentences(text)} | {b for _, b in split_sentences(text)}
    for a, b in split_sentences(text):
        if COUNT(text[a:b]) <= 200:
            assert not any(a < x < b for x in bounds), "a chunk boundary falls inside a sentence"
    assert bounds <= sentence_bounds | {0, len(text)}


def test_model_budget_also_caps_chunks() -> None:
    text = "。".join(["脑机接口依托东湖高新区"] * 40) + "。"
    budget = ChunkBudget(max_tokens=10_000, count=COUNT, model_max_tokens=50, model_count=lambda s: len(s))
    chunks = chunk_sections(text, [Section((), 0, len(text))], budget, doc_id="d")
    assert len(chunks) > 1 and all(len(c.text) <= 50 for c in chunks)

"""Running an answer set through a retriever and/or an answerer.

The runner knows nothing of indexes or models: it is handed `search` and `ask`
callables, so the CLI can pass the real ones and tests pass fakes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from policybot.bot.records import Answer
from policybot.eval.aggregate import breakdown
from policybot.eval.answer_set import EvalItem
from policybot.eval.metrics import (
    check_citations,
    facts_found,
    first_relevant_rank,
    forbidden_found,
    is_list_question,
    judge,
    key_fact_recall,
    relevant_chunks,
    retrieval_scores,
    set_f1,
    spelling_index,
    wrong_entities,
)
from policybot.eval.records import EvalResult, QuestionRow
from policybot.index.records import Hit
from policybot.ingest.records import Chunk

SearchFn = Callable[[str, int], list[Hit]]
AskFn = Callable[[str], Answer]
T = TypeVar("T")


@dataclass(frozen=True)
class _Searched:
    """What one search returned, before ranx scores the whole run."""

    retrieved: tuple[str, ...]
    seconds: float
    error: str | None
    relevant: frozenset[str] | None  # None: the question has no evidence to look for


def run_eval(
    items: Sequence[EvalItem],
    *,
    search: SearchFn | None,
    ask: AskFn | None,
    k: int = 10,
    progress: bool = False,
    chunks: Sequence[Chunk] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> EvalResult:
    """Ask every question, measure every answer, and aggregate.

    `search(question, k)` returns ranked hits; `ask(question)` returns an Answer.
    Either may be None to evaluate only the other stage. `chunks`, when given (every
    chunk of the index), makes relevance judgments cover the whole corpus, so nDCG
    knows about relevant chunks the search missed; without it only the retrieved
    chunks are judged. An exception from `search` or `ask` is recorded on that
    question's row (which fails) rather than ending the run. `clock` is there for tests.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        # Rows and retrieval scores are matched by id; a repeat would silently merge two questions.
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"duplicate question ids {repeated}; run check_answer_set on the set first")
    # Lets set F1 count a wrong entity once whichever spellings of it an answer uses.
    spellings = spelling_index(fact for item in items for fact in item.key_facts)
    searched: list[_Searched | None] = []
    answered: list[QuestionRow] = []
    for item in _progress(items, progress):
        searched.append(_search(item, search, k, chunks, clock) if search is not None else None)
        row = QuestionRow(item=item)
        answered.append(_answer(row, ask, clock, spellings) if ask is not None else row)

    relevant = {
        i.id: s.relevant for i, s in zip(items, searched, strict=True) if s is not None and s.relevant is not None
    }
    ranked = {i.id: list(s.retrieved) for i, s in zip(items, searched, strict=True) if s is not None}
    scores = retrieval_scores(relevant, ranked, k=k) if relevant else {}
    rows = []
    for row, found in zip(answered, searched, strict=True):
        if found is not None:
            error = "; ".join(e for e in (found.error, row.error) if e) or None
            row = replace(row, retrieved=found.retrieved, search_seconds=found.seconds, error=error)
        if found is not None and found.relevant is not None:
            score = scores[row.id]
            row = replace(
                row,
                relevant=tuple(sorted(found.relevant)),
                first_relevant_rank=first_relevant_rank(found.retrieved[:k], found.relevant),
                hit=score.hit,
                hit_at_1=score.hit_at_1,
                hit_at_3=score.hit_at_3,
                reciprocal_rank=score.reciprocal_rank,
                ndcg=score.ndcg,
            )
        rows.append(row)
    return EvalResult(
        rows=tuple(rows),
        metrics=breakdown(rows),
        k=k,
        searched=search is not None,
        answered=ask is not None,
    )


def _search(
    item: EvalItem, search: SearchFn, k: int, chunks: Sequence[Chunk] | None, clock: Callable[[], float]
) -> _Searched:
    """Search one question and judge which chunks hold its evidence."""
    hits, seconds, error = _timed(lambda: search(item.question, k), clock)
    found = [hit.chunk for hit in hits or ()]
    relevant = None
    if item.evidence:
        relevant = frozenset(relevant_chunks(item.evidence, chunks if chunks is not None else found))
    return _Searched(
        retrieved=tuple(chunk.id for chunk in found),
        seconds=seconds,
        error=f"search failed: {error}" if error else None,
        relevant=relevant,
    )


def _answer(row: QuestionRow, ask: AskFn, clock: Callable[[], float], spellings: Mapping[str, int]) -> QuestionRow:
    """Ask one question and measure the answer."""
    item = row.item
    answer, seconds, error = _timed(lambda: ask(item.question), clock)
    if answer is None:
        # A crash is a failed answer: no facts, no abstention, the error as the reason.
        return replace(
            row,
            answer="",
            abstained=False,
            answer_seconds=seconds,
            error=f"ask failed: {error}",
            facts_found=tuple(False for _ in item.key_facts),
            key_fact_recall=0.0 if item.answerable else None,
            set_f1=0.0 if is_list_question(item) else None,
            passed=False,
            reasons=(f"error: {error}",),
        )
    found = facts_found(answer.text, item.key_facts)
    banned = forbidden_found(answer.text, item.forbidden)
    passed, reasons = judge(item, abstained=answer.abstained, found=found, forbidden_hits=banned)
    f1 = None
    if is_list_question(item):
        f1 = set_f1(answer.text, item.key_facts, wrong_entities(item.forbidden, spellings))
    return replace(
        row,
        answer=answer.text,
        abstained=answer.abstained,
        answer_seconds=seconds,
        citations=check_citations(answer.citations, item.evidence) if item.answerable else (),
        facts_found=found,
        forbidden_found=banned,
        key_fact_recall=key_fact_recall(answer.text, item.key_facts) if item.answerable else None,
        set_f1=f1,
        passed=passed,
        reasons=reasons,
    )


def _timed(call: Callable[[], T], clock: Callable[[], float]) -> tuple[T | None, float, str | None]:
    """Run `call`, returning (result or None, seconds, error description or None).

    Any exception is caught on purpose: one broken question must not end an
    evaluation of hundreds; the error is kept on its row and reported.
    """
    start = clock()
    try:
        result = call()
    except Exception as exc:  # noqa: BLE001 - recorded on the row, see docstring
        return None, clock() - start, f"{type(exc).__name__}: {exc}"
    return result, clock() - start, None


def _progress(items: Iterable[EvalItem], enabled: bool) -> Iterator[EvalItem]:
    if not enabled:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc="eval", unit="q", file=sys.stderr)

"""Records of an evaluation run: one row per question, then the aggregate figures."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from policybot.eval.answer_set import EvalItem


@dataclass(frozen=True)
class CitationCheck:
    """One citation of an answer and whether it points at the question's evidence."""

    n: int
    chunk_id: str
    quote: str
    supported: bool


@dataclass(frozen=True)
class QuestionRow:
    """Everything measured for one question.

    Retrieval fields are None when no search ran (or the question has no evidence);
    answer fields are None when no answerer ran. `retrieved` holds chunk ids in rank
    order and `relevant` the chunk ids judged to hold the evidence.
    """

    item: EvalItem
    retrieved: tuple[str, ...] = ()
    relevant: tuple[str, ...] = ()
    first_relevant_rank: int | None = None
    hit: float | None = None
    hit_at_1: float | None = None
    hit_at_3: float | None = None
    reciprocal_rank: float | None = None
    ndcg: float | None = None
    answer: str | None = None
    abstained: bool | None = None
    citations: tuple[CitationCheck, ...] = ()
    facts_found: tuple[bool, ...] = ()
    forbidden_found: tuple[str, ...] = ()
    key_fact_recall: float | None = None
    set_f1: float | None = None
    passed: bool | None = None
    reasons: tuple[str, ...] = ()
    search_seconds: float | None = None
    answer_seconds: float | None = None
    error: str | None = None

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def lang(self) -> str:
        return self.item.lang

    @property
    def category(self) -> str:
        return self.item.category

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form: the item's fields flattened in, then the measurements."""
        out: dict[str, object] = self.item.to_dict()
        out.update(
            {
                "retrieved": list(self.retrieved),
                "relevant": list(self.relevant),
                "first_relevant_rank": self.first_relevant_rank,
                "hit": self.hit,
                "hit_at_1": self.hit_at_1,
                "hit_at_3": self.hit_at_3,
                "reciprocal_rank": self.reciprocal_rank,
                "ndcg": self.ndcg,
                "answer": self.answer,
                "abstained": self.abstained,
                "citations": [asdict(c) for c in self.citations],
                "facts_found": list(self.facts_found),
                "forbidden_found": list(self.forbidden_found),
                "key_fact_recall": self.key_fact_recall,
                "set_f1": self.set_f1,
                "passed": self.passed,
                "reasons": list(self.reasons),
                "search_seconds": self.search_seconds,
                "answer_seconds": self.answer_seconds,
                "error": self.error,
            }
        )
        return out


@dataclass(frozen=True)
class Metrics:
    """Aggregate figures over a group of questions; None where a figure does not apply.

    Rates are in [0, 1]. Latencies are seconds per question for `ask` (the answer,
    retrieval included when the answerer retrieves) and for `search` alone.
    """

    questions: int
    answerable: int
    unanswerable: int
    hit_rate: float | None = None
    hit_at_1: float | None = None
    hit_at_3: float | None = None
    mrr: float | None = None
    ndcg: float | None = None
    key_fact_recall: float | None = None
    set_f1: float | None = None
    forbidden_rate: float | None = None
    citation_accuracy: float | None = None
    abstention_precision: float | None = None
    abstention_recall: float | None = None
    pass_rate: float | None = None
    latency_mean: float | None = None
    latency_p50: float | None = None
    latency_p95: float | None = None
    latency_max: float | None = None
    search_latency_mean: float | None = None
    errors: int = 0

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


@dataclass(frozen=True)
class Breakdown:
    """The same figures overall, per language and per category."""

    overall: Metrics
    by_lang: dict[str, Metrics] = field(default_factory=dict)
    by_category: dict[str, Metrics] = field(default_factory=dict)

    def groups(self) -> list[tuple[str, Metrics]]:
        """(label, metrics) pairs in display order: overall, languages, categories."""
        return (
            [("overall", self.overall)]
            + [(f"lang:{k}", m) for k, m in self.by_lang.items()]
            + [(f"cat:{k}", m) for k, m in self.by_category.items()]
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "overall": self.overall.to_dict(),
            "by_lang": {k: m.to_dict() for k, m in self.by_lang.items()},
            "by_category": {k: m.to_dict() for k, m in self.by_category.items()},
        }


@dataclass(frozen=True)
class EvalResult:
    """One evaluation run: per-question rows and their aggregate metrics.

    `k` is the retrieval depth; `searched` / `answered` say which stages ran.
    """

    rows: tuple[QuestionRow, ...]
    metrics: Breakdown
    k: int
    searched: bool
    answered: bool

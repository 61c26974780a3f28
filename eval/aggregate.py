"""Aggregate figures over question rows: overall, per language, per category.

Each figure is taken over the questions it applies to, and is None when there are
none (no unanswerable questions in a category means no abstention recall there):

- hit rate, MRR, nDCG: mean over questions that were searched and have evidence;
- key-fact recall: mean over answerable questions that were answered;
- set F1: mean over list questions (answerable, two or more key facts);
- forbidden rate: share of answered questions with a forbidden list whose answer
  contains a forbidden string;
- citation accuracy: supported citations / all citations, over answerable questions
  the bot answered (did not abstain on);
- abstention precision and recall: positive class "abstained", over answered questions;
- pass rate: share of answered questions that passed;
- latency: mean, median, 95th percentile (nearest rank) and max seconds per answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from policybot.eval.metrics import abstention_scores
from policybot.eval.records import Breakdown, Metrics, QuestionRow


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, None for no values.

    >>> mean([1.0, 1/3, 0.0])
    0.4444444444444444
    >>> mean([]) is None
    True
    """
    return sum(values) / len(values) if values else None


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `fraction` of values at or below it.

    >>> percentile([0.4, 0.1, 0.3, 0.2], 0.5), percentile([0.4, 0.1, 0.3, 0.2], 0.95)
    (0.2, 0.4)
    """
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


def aggregate(rows: Sequence[QuestionRow]) -> Metrics:
    """The figures for one group of question rows (see the module docstring)."""
    searched = [r for r in rows if r.hit is not None]
    answered = [r for r in rows if r.answer is not None]
    answerable = [r for r in answered if r.item.answerable]
    with_forbidden = [r for r in answered if r.item.forbidden]
    cited = [c for r in answerable if not r.abstained for c in r.citations]
    latencies = [r.answer_seconds for r in answered if r.answer_seconds is not None]
    search_latencies = [r.search_seconds for r in rows if r.search_seconds is not None]
    precision, recall = abstention_scores((r.item.answerable, bool(r.abstained)) for r in answered)
    return Metrics(
        questions=len(rows),
        answerable=sum(r.item.answerable for r in rows),
        unanswerable=sum(not r.item.answerable for r in rows),
        hit_rate=mean([r.hit for r in searched if r.hit is not None]),
        hit_at_1=mean([r.hit_at_1 for r in searched if r.hit_at_1 is not None]),
        hit_at_3=mean([r.hit_at_3 for r in searched if r.hit_at_3 is not None]),
        mrr=mean([r.reciprocal_rank for r in searched if r.reciprocal_rank is not None]),
        ndcg=mean([r.ndcg for r in searched if r.ndcg is not None]),
        key_fact_recall=mean([r.key_fact_recall for r in answerable if r.key_fact_recall is not None]),
        set_f1=mean([r.set_f1 for r in answered if r.set_f1 is not None]),
        forbidden_rate=mean([float(bool(r.forbidden_found)) for r in with_forbidden]),
        citation_accuracy=mean([float(c.supported) for c in cited]),
        abstention_precision=precision,
        abstention_recall=recall,
        pass_rate=mean([float(bool(r.passed)) for r in answered if r.passed is not None]),
        latency_mean=mean(latencies),
        latency_p50=percentile(latencies, 0.5),
        latency_p95=percentile(latencies, 0.95),
        latency_max=max(latencies) if latencies else None,
        search_latency_mean=mean(search_latencies),
        errors=sum(r.error is not None for r in rows),
    )


def breakdown(rows: Sequence[QuestionRow]) -> Breakdown:
    """Figures overall, per language and per category (groups in order of first appearance)."""
    by_lang: dict[str, list[QuestionRow]] = {}
    by_category: dict[str, list[QuestionRow]] = {}
    for row in rows:
        by_lang.setdefault(row.lang, []).append(row)
        by_category.setdefault(row.category, []).append(row)
    return Breakdown(
        overall=aggregate(rows),
        by_lang={lang: aggregate(group) for lang, group in sorted(by_lang.items())},
        by_category={cat: aggregate(group) for cat, group in by_category.items()},
    )

"""Per-question metrics: retrieval (via ranx), answer facts, citations, pass/fail.

Pure functions over strings and records; `aggregate` turns their results into the
figures per group. The matching rules live in `normalize`: evidence is found with
`covers`, answer spellings with `mentions`.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from policybot.bot.records import Citation
from policybot.eval.answer_set import EvalItem
from policybot.eval.normalize import covers, fold, mentions
from policybot.eval.records import CitationCheck
from policybot.ingest.records import Chunk


@dataclass(frozen=True)
class RetrievalScores:
    """One question's retrieval figures at depth k: hit (0/1), reciprocal rank, nDCG."""

    hit: float
    reciprocal_rank: float
    ndcg: float
    hit_at_1: float = 0.0
    hit_at_3: float = 0.0


def holds_evidence(text: str, evidence: Sequence[str]) -> bool:
    """Whether a passage holds any of the evidence quotes (see `normalize.covers`).

    >>> holds_evidence("新型储能依托东湖高新区、武汉经开区、长江新区", ["新型储能依托东湖高新区、武汉经开区"])
    True
    >>> holds_evidence("电磁能依托东湖高新区、江夏区等区", ["新型储能依托东湖高新区、武汉经开区"])
    False
    """
    return any(covers(text, quote) for quote in evidence)


def relevant_chunks(evidence: Sequence[str], chunks: Iterable[Chunk]) -> tuple[str, ...]:
    """Ids of the chunks that hold one of the evidence quotes, in the order given."""
    return tuple(chunk.id for chunk in chunks if holds_evidence(chunk.text, evidence))


def retrieval_scores(
    relevant: Mapping[str, Collection[str]],
    ranked: Mapping[str, Sequence[str]],
    *,
    k: int,
) -> dict[str, RetrievalScores]:
    """hit@k, reciprocal rank (cut at k) and nDCG@k per question, computed by ranx.

    `relevant` maps question id to the ids of its relevant chunks (binary relevance);
    `ranked` maps question id to retrieved chunk ids, best first. A question with no
    relevant chunk or nothing retrieved scores 0. Relevant at ranks 1, 3 and a miss:

    >>> scores = retrieval_scores({"a": {"c1"}, "b": {"c3"}, "c": {"c9"}},
    ...     {"a": ["c1", "c2"], "b": ["c1", "c2", "c3"], "c": ["c1"]}, k=3)
    >>> [round(scores[q].reciprocal_rank, 3) for q in "abc"]
    [1.0, 0.333, 0.0]
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    scores = {q: RetrievalScores(0.0, 0.0, 0.0) for q in relevant}
    run: dict[str, dict[str, float]] = {}
    for q, rel in relevant.items():
        ids = list(dict.fromkeys(ranked.get(q, ())))[:k]
        if rel and ids:
            # Scores that fall with rank, so ranx sorts exactly as the retriever ranked.
            run[q] = {cid: float(len(ids) - i) for i, cid in enumerate(ids)}
    if not run:
        return scores
    # ranx pulls in numba (seconds to import and compile), so only runs that need it pay.
    from ranx import Qrels, Run, evaluate

    qrels = Qrels({q: {cid: 1 for cid in relevant[q]} for q in run})
    ranx_run = Run(run)
    names = {"hit": f"hit_rate@{k}", "rr": f"mrr@{k}", "ndcg": f"ndcg@{k}", "hit1": "hit_rate@1",
             "hit3": f"hit_rate@{min(3, k)}"}
    with warnings.catch_warnings():
        # numba warns about an internal uint64 -> int64 cast on every call.
        warnings.simplefilter("ignore")
        evaluate(qrels, ranx_run, list(names.values()))
    per_query = ranx_run.scores
    for q in run:
        scores[q] = RetrievalScores(
            hit=float(per_query[names["hit"]][q]),
            reciprocal_rank=float(per_query[names["rr"]][q]),
            ndcg=float(per_query[names["ndcg"]][q]),
            hit_at_1=float(per_query[names["hit1"]][q]),
            hit_at_3=float(per_query[names["hit3"]][q]),
        )
    return scores


def first_relevant_rank(ranked: Sequence[str], relevant: Collection[str]) -> int | None:
    """1-based rank of the first relevant chunk, None if none was retrieved.

    >>> first_relevant_rank(["c4", "c2", "c7"], {"c7", "c2"})
    2
    """
    return next((i for i, cid in enumerate(ranked, 1) if cid in relevant), None)


def facts_found(answer: str, key_facts: Sequence[Sequence[str]]) -> tuple[bool, ...]:
    """For each key fact, whether the answer states it in any accepted spelling.

    >>> facts_found("East Lake High-tech Zone (东湖高新区) and Hongshan District [1]",
    ...     [["东湖高新区", "East Lake"], ["洪山区", "Hongshan"], ["江夏区", "Jiangxia"]])
    (True, True, False)
    """
    return tuple(any(mentions(answer, spelling) for spelling in fact) for fact in key_facts)


def key_fact_recall(answer: str, key_facts: Sequence[Sequence[str]]) -> float:
    """Fraction of key facts the answer states; 1.0 when there is nothing to state.

    >>> key_fact_recall("Hongshan District", [["东湖高新区", "East Lake"], ["洪山区", "Hongshan"]])
    0.5
    """
    found = facts_found(answer, key_facts)
    return sum(found) / len(found) if found else 1.0


def forbidden_found(answer: str, forbidden: Sequence[str]) -> tuple[str, ...]:
    """The forbidden strings the answer contains.

    >>> forbidden_found("东湖高新区、江夏区", ["江夏区", "Jiangxia", "新洲区"])
    ('江夏区',)
    """
    return tuple(s for s in forbidden if mentions(answer, s))


def spelling_index(spelling_groups: Iterable[Sequence[str]]) -> dict[str, int]:
    """Map each folded spelling to the number of the first key fact that lists it.

    `spelling_groups` is every key fact of every item of an answer set; built once
    per run for `wrong_entities`.

    >>> spelling_index([["江夏区", "Jiangxia"], ["洪山区", "Hongshan"]])
    {'江夏区': 0, 'jiangxia': 0, '洪山区': 1, 'hongshan': 1}
    """
    index: dict[str, int] = {}
    for number, group in enumerate(spelling_groups):
        for spelling in group:
            index.setdefault(fold(spelling), number)
    return index


def wrong_entities(forbidden: Sequence[str], index: Mapping[str, int]) -> tuple[tuple[str, ...], ...]:
    """Group forbidden strings into entities, so "江夏区" and "Jiangxia" count once.

    Two forbidden strings are one entity when both are spellings of one key fact
    somewhere in the answer set (`index` from `spelling_index`). A forbidden string
    no key fact names is an entity of its own.

    >>> index = spelling_index([["江夏区", "Jiangxia"], ["洪山区", "Hongshan"]])
    >>> wrong_entities(["江夏区", "Jiangxia", "新洲区"], index)
    (('江夏区', 'Jiangxia'), ('新洲区',))
    """
    entities: dict[object, list[str]] = {}
    for s in forbidden:
        key: object = index.get(fold(s), ("own", fold(s)))
        entities.setdefault(key, []).append(s)
    return tuple(tuple(spellings) for spellings in entities.values())


def is_list_question(item: EvalItem) -> bool:
    """Whether exact-set F1 applies: an answerable question expecting two or more facts."""
    return item.answerable and len(item.key_facts) >= 2


def set_f1(answer: str, key_facts: Sequence[Sequence[str]], wrong: Sequence[Sequence[str]]) -> float:
    """Exact-set F1 of the entities an answer names against the expected set.

    The known entities are the key facts (expected) and `wrong` (each a list of
    spellings of one entity that does not belong). True positives are facts found,
    false positives wrong entities named, false negatives facts missed; F1 is
    2TP / (2TP + FP + FN), and 1.0 when there is nothing to find or avoid. Two of
    three expected districts and one wrong one: 2*2 / (2*2 + 1 + 1) = 0.667.

    >>> expected = [["东湖高新区"], ["洪山区"], ["武昌区"]]
    >>> round(set_f1("东湖高新区、洪山区、江夏区", expected, [["江夏区", "Jiangxia"]]), 3)
    0.667
    """
    tp = sum(facts_found(answer, key_facts))
    fn = len(key_facts) - tp
    fp = sum(facts_found(answer, wrong))
    denominator = 2 * tp + fp + fn
    return 2 * tp / denominator if denominator else 1.0


def check_citations(citations: Iterable[Citation], evidence: Sequence[str]) -> tuple[CitationCheck, ...]:
    """Mark each citation supported when its chunk text or its quote holds an evidence quote."""
    return tuple(
        CitationCheck(
            n=c.n,
            chunk_id=c.chunk_id,
            quote=c.quote,
            supported=holds_evidence(c.text, evidence) or holds_evidence(c.quote, evidence),
        )
        for c in citations
    )


def judge(
    item: EvalItem, *, abstained: bool, found: Sequence[bool], forbidden_hits: Sequence[str]
) -> tuple[bool, tuple[str, ...]]:
    """Pass or fail, and why not.

    An answerable question passes when every key fact is found, no forbidden string
    appears and the bot did not abstain; an unanswerable one passes when it abstained.

    >>> item = EvalItem(id="q", lang="en", question="?", answerable=True,
    ...                 key_facts=(("洪山区", "Hongshan"),), forbidden=("江夏区",))
    >>> judge(item, abstained=False, found=[False], forbidden_hits=["江夏区"])
    (False, ('missing key fact: 洪山区 / Hongshan', 'forbidden: 江夏区'))
    """
    if not item.answerable:
        if abstained:
            return True, ()
        return False, ("answered a question the documents do not answer (should abstain)",)
    reasons: list[str] = []
    if abstained:
        reasons.append("abstained on an answerable question")
    reasons += [
        f"missing key fact: {' / '.join(fact)}" for fact, ok in zip(item.key_facts, found, strict=True) if not ok
    ]
    reasons += [f"forbidden: {s}" for s in forbidden_hits]
    return not reasons, tuple(reasons)


def abstention_scores(outcomes: Iterable[tuple[bool, bool]]) -> tuple[float | None, float | None]:
    """Precision and recall of abstaining, from (answerable, abstained) pairs.

    The positive class is "abstained"; the right abstentions are on unanswerable
    questions. None where a denominator is zero. Abstained on 2 of 3 unanswerable
    and on 1 answerable: precision 2/3, recall 2/3.

    >>> p, r = abstention_scores([(False, True), (False, True), (False, False), (True, True), (True, False)])
    >>> round(p, 3), round(r, 3)
    (0.667, 0.667)
    """
    tp = fp = fn = 0
    for answerable, abstained in outcomes:
        if abstained and not answerable:
            tp += 1
        elif abstained:
            fp += 1
        elif not answerable:
            fn += 1
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return precision, recall

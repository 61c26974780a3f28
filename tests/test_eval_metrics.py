"""Metric functions, with expected values worked out by hand in the comments."""

from __future__ import annotations

import math

import pytest

from policybot.eval.aggregate import aggregate, percentile
from policybot.eval.answer_set import EvalItem
from policybot.eval.metrics import (
    abstention_scores,
    facts_found,
    forbidden_found,
    judge,
    key_fact_recall,
    retrieval_scores,
    set_f1,
    spelling_index,
    wrong_entities,
)
from policybot.eval.normalize import covers, fold, longest_common_run, mentions, squash
from policybot.eval.records import CitationCheck, QuestionRow

EAST = ["东湖高新区", "East Lake"]
HONGSHAN = ["洪山区", "Hongshan"]
JIANGXIA = ["江夏区", "Jiangxia"]


def test_retrieval_scores_by_ranx() -> None:
    # Relevant chunk at rank 1, at rank 3, and not retrieved.
    relevant = {"a": {"r"}, "b": {"r"}, "c": {"r"}}
    ranked = {"a": ["r", "x", "y"], "b": ["x", "y", "r"], "c": ["x", "y", "z"]}
    scores = retrieval_scores(relevant, ranked, k=3)
    # MRR = (1 + 1/3 + 0) / 3 = 0.444
    assert sum(s.reciprocal_rank for s in scores.values()) / 3 == pytest.approx(0.4444, abs=1e-4)
    # hit@3 = (1 + 1 + 0) / 3 = 0.667
    assert [s.hit for s in scores.values()] == [1.0, 1.0, 0.0]
    # nDCG@3 with one relevant chunk: 1 at rank 1; at rank 3 DCG = 1/log2(3+1) = 0.5, IDCG = 1.
    assert [s.ndcg for s in scores.values()] == pytest.approx([1.0, 0.5, 0.0])
    # hit@1: only "a" = 1/3.
    at1 = retrieval_scores(relevant, ranked, k=1)
    assert [s.hit for s in at1.values()] == [1.0, 0.0, 0.0]


def test_ndcg_with_two_relevant_chunks() -> None:
    # Relevant at ranks 1 and 3: DCG = 1 + 1/log2(4) = 1.5; ideal = 1 + 1/log2(3) = 1.6309;
    # nDCG@3 = 1.5 / 1.6309 = 0.9197.
    scores = retrieval_scores({"q": {"a", "c"}}, {"q": ["a", "b", "c"]}, k=3)
    assert scores["q"].ndcg == pytest.approx(1.5 / (1 + 1 / math.log2(3)), abs=1e-4)
    assert scores["q"].ndcg == pytest.approx(0.9197, abs=1e-4)


def test_retrieval_keeps_the_given_order_and_handles_empty_inputs() -> None:
    # Duplicate ids count once; the second-listed relevant chunk is at rank 2 -> RR 1/2.
    scores = retrieval_scores({"q": {"b"}, "none": set(), "empty": {"a"}}, {"q": ["a", "a", "b"], "empty": []}, k=5)
    assert scores["q"].reciprocal_rank == pytest.approx(0.5)
    assert scores["none"].hit == 0.0 and scores["empty"].hit == 0.0
    with pytest.raises(ValueError):
        retrieval_scores({}, {}, k=0)


def test_covers_a_quote_split_by_a_chunk_boundary() -> None:
    quote = "新型储能依托东湖高新区、武汉经开区、长江新区、江夏区、黄陂区等区"  # 33 chars
    # 60% of 33 = 19.8 -> 20 chars needed in one run.
    assert covers("……。新型储能依托东湖高新区、武汉经开区、长江新区", quote)  # 24-char run
    assert not covers("东湖高新区、武汉经开区、长江", quote)  # 14-char run
    # A quote of 100 chars needs only 40 (the absolute floor), not 60.
    long_quote = "甲" * 10 + "乙" * 90
    assert covers("乙" * 40, long_quote) and not covers("乙" * 39, long_quote)


def test_normal_forms() -> None:
    assert squash("1000 亿元，\n打造") == "1000亿元,打造"
    assert fold("East  Lake 东湖") == "east lake东湖"
    assert longest_common_run("未来网络依托东湖高新区", "量子科技依托东湖高新区") == 7
    assert mentions("Hongshan District (洪山区)", "hongshan")
    assert not mentions("100 billion", "10 billion") and not mentions("2027", "7")
    assert mentions("2—3个千亿级产业", "2-3个")


def test_key_fact_recall_and_forbidden() -> None:
    answer = "East Lake High-tech Zone (东湖高新区) and Jiangxia District (江夏区) [1]"
    # Found East Lake, missed Hongshan: 1/2 = 0.5.
    assert facts_found(answer, [EAST, HONGSHAN]) == (True, False)
    assert key_fact_recall(answer, [EAST, HONGSHAN]) == 0.5
    assert key_fact_recall("", []) == 1.0
    assert forbidden_found(answer, JIANGXIA) == ("江夏区", "Jiangxia")


def test_set_f1_counts_an_entity_once_across_languages() -> None:
    wrong = wrong_entities(["江夏区", "Jiangxia", "新洲区"], spelling_index([EAST, HONGSHAN, JIANGXIA]))
    assert wrong == (("江夏区", "Jiangxia"), ("新洲区",))
    answer = "East Lake (东湖高新区), Jiangxia (江夏区)"
    # TP = 1 (East Lake), FN = 1 (Hongshan), FP = 1 (Jiangxia, named twice but one entity):
    # F1 = 2*1 / (2*1 + 1 + 1) = 0.5.
    assert set_f1(answer, [EAST, HONGSHAN], wrong) == pytest.approx(0.5)
    # Both right, nothing wrong: 2*2 / (2*2) = 1.0.
    assert set_f1("东湖高新区、洪山区", [EAST, HONGSHAN], wrong) == 1.0


def test_abstention_precision_and_recall() -> None:
    # (answerable, abstained): TP = 1 (unanswerable, abstained), FP = 2 (answerable, abstained),
    # FN = 1 (unanswerable, answered). Precision = 1/3 = 0.333, recall = 1/2 = 0.5.
    p, r = abstention_scores([(False, True), (True, True), (True, True), (False, False), (True, False)])
    assert (p, r) == (pytest.approx(1 / 3), 0.5)
    assert abstention_scores([(True, False)]) == (None, None)


def test_judge() -> None:
    item = EvalItem(id="q", lang="en", question="?", answerable=True, key_facts=(tuple(EAST),), forbidden=("江夏区",))
    assert judge(item, abstained=False, found=[True], forbidden_hits=[]) == (True, ())
    ok, reasons = judge(item, abstained=True, found=[True], forbidden_hits=[])
    assert not ok and reasons == ("abstained on an answerable question",)
    none = EvalItem(id="n", lang="zh", question="?", answerable=False)
    assert judge(none, abstained=True, found=[], forbidden_hits=[]) == (True, ())
    assert judge(none, abstained=False, found=[], forbidden_hits=[])[0] is False


def test_aggregate_by_hand() -> None:
    ans = EvalItem(
        id="a",
        lang="en",
        question="a?",
        answerable=True,
        key_facts=(tuple(EAST),),
        forbidden=("江夏区",),
        evidence=("q" * 8,),
    )
    una = EvalItem(id="u", lang="zh", question="u?", answerable=False)
    cite = [CitationCheck(1, "c1", "", True), CitationCheck(2, "c2", "", True), CitationCheck(3, "c3", "", False)]
    rows = [
        QuestionRow(
            item=ans,
            hit=1.0,
            reciprocal_rank=1.0,
            ndcg=1.0,
            answer="x",
            abstained=False,
            citations=tuple(cite),
            key_fact_recall=1.0,
            forbidden_found=("江夏区",),
            passed=False,
            answer_seconds=0.4,
        ),
        QuestionRow(
            item=ans,
            hit=0.0,
            reciprocal_rank=0.0,
            ndcg=0.0,
            answer="y",
            abstained=False,
            key_fact_recall=0.5,
            passed=True,
            answer_seconds=0.1,
        ),
        QuestionRow(item=una, answer="z", abstained=True, passed=True, answer_seconds=0.2),
    ]
    m = aggregate(rows)
    assert (m.questions, m.answerable, m.unanswerable) == (3, 2, 1)
    assert m.hit_rate == 0.5 and m.mrr == 0.5  # (1 + 0) / 2
    assert m.key_fact_recall == 0.75  # (1 + 0.5) / 2
    assert m.forbidden_rate == 0.5  # 1 of the 2 rows with a forbidden list
    assert m.citation_accuracy == pytest.approx(2 / 3)  # 2 of 3 citations supported
    assert (m.abstention_precision, m.abstention_recall) == (1.0, 1.0)
    assert m.pass_rate == pytest.approx(2 / 3)
    assert m.latency_mean == pytest.approx((0.4 + 0.1 + 0.2) / 3)
    assert m.latency_p50 == 0.2 and m.latency_max == 0.4
    assert m.set_f1 is None  # no list questions here


def test_percentile_nearest_rank() -> None:
    values = [0.5, 0.1, 0.4, 0.2, 0.3]
    # Sorted: 0.1 0.2 0.3 0.4 0.5; p50 = ceil(2.5) = 3rd = 0.3; p95 = ceil(4.75) = 5th = 0.5.
    assert (percentile(values, 0.5), percentile(values, 0.95)) == (0.3, 0.5)
    assert percentile([], 0.5) is None


def test_hit_at_1_and_3_by_hand() -> None:
    from policybot.eval.metrics import retrieval_scores

    # Relevant chunk at rank 1 (a), rank 3 (b), rank 4 (c), and nowhere (d):
    # hit@1 = 1/4 = 0.25; hit@3 = 2/4 = 0.5 (a and b); hit@10 = 3/4 = 0.75.
    scores = retrieval_scores(
        {"a": {"x"}, "b": {"x"}, "c": {"x"}, "d": {"x"}},
        {"a": ["x", "y"], "b": ["y", "z", "x"], "c": ["y", "z", "w", "x"], "d": ["y"]},
        k=10,
    )
    assert sum(s.hit_at_1 for s in scores.values()) / 4 == 0.25
    assert sum(s.hit_at_3 for s in scores.values()) / 4 == 0.5
    assert sum(s.hit for s in scores.values()) / 4 == 0.75

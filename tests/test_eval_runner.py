"""run_eval with fake search and ask callables (no index, no model)."""

from __future__ import annotations

import itertools

import pytest

from policybot.bot.records import Answer, Citation
from policybot.eval import EvalItem, run_eval
from policybot.index.records import Hit
from policybot.ingest.records import Chunk

TEXTS = {
    "c-bci": "脑机接口依托东湖高新区、洪山区等区,开展非侵入式修复型脑机接口等领域研究。",
    "c-bio": "生物制造依托东湖高新区、东西湖区、江夏区等区,突破基因合成与编辑等关键技术。",
    "c-rev": "力争到2027年,未来产业相关产业营业收入规模突破1000亿元。",
    "c-fund": "将原来武汉基金分别拆分成为武汉基金和江城基金。",
}
CHUNKS = {
    cid: Chunk(id=cid, doc_id="d", text=t, section=(), start=0, end=len(t), tokens=10) for cid, t in TEXTS.items()
}

ITEMS = [
    EvalItem(
        id="bci",
        lang="en",
        question="Which districts host BCI?",
        answerable=True,
        key_facts=(("东湖高新区", "East Lake"), ("洪山区", "Hongshan")),
        forbidden=("江夏区", "Jiangxia"),
        evidence=("脑机接口依托东湖高新区、洪山区等区",),
        category="districts",
    ),
    EvalItem(
        id="rev",
        lang="zh",
        question="2027年营收目标?",
        answerable=True,
        key_facts=(("1000亿", "100 billion"),),
        evidence=("未来产业相关产业营业收入规模突破1000亿元",),
        category="targets",
    ),
    EvalItem(id="jobs", lang="zh", question="能带动多少就业?", answerable=False, category="unanswerable"),
    # Names Jiangxia as a key fact, which tells set F1 that "江夏区" and "Jiangxia" are one entity.
    EvalItem(
        id="bio",
        lang="zh",
        question="生物制造依托哪些区?",
        answerable=True,
        key_facts=(("东湖高新区", "East Lake"), ("东西湖区", "Dongxihu"), ("江夏区", "Jiangxia")),
        evidence=("生物制造依托东湖高新区、东西湖区、江夏区等区",),
        category="districts",
    ),
]
# What the fake retriever returns per question, best first.
RANKING = {
    "Which districts host BCI?": ["c-bio", "c-bci"],
    "2027年营收目标?": ["c-rev", "c-fund"],
    "能带动多少就业?": ["c-fund"],
    "生物制造依托哪些区?": ["c-bio"],
}


def fake_search(question: str, k: int) -> list[Hit]:
    return [
        Hit(chunk=CHUNKS[cid], score=1.0 / r, retrievers=("bm25",)) for r, cid in enumerate(RANKING[question][:k], 1)
    ]


def cite(n: int, cid: str) -> Citation:
    text = TEXTS[cid]
    return Citation(n=n, chunk_id=cid, doc_id="d", section=(), quote=text, text=text, start=0, end=len(text), score=1.0)


ANSWERS = {
    # Names the right districts, plus a wrong one (Jiangxia), and cites a wrong chunk as well.
    "Which districts host BCI?": Answer(
        question="",
        text="East Lake High-tech Zone (东湖高新区), Hongshan District (洪山区) and Jiangxia (江夏区) [1][2]",
        citations=(cite(1, "c-bci"), cite(2, "c-bio")),
        abstained=False,
        language="en",
    ),
    "2027年营收目标?": Answer(
        question="",
        text="到2027年营业收入规模突破1000亿元[1]。",
        citations=(cite(1, "c-rev"),),
        abstained=False,
        language="zh",
    ),
    "能带动多少就业?": Answer(question="", text="文件没有提到。", citations=(), abstained=True, language="zh"),
    "生物制造依托哪些区?": Answer(
        question="",
        text="东湖高新区、东西湖区、江夏区[1]",
        citations=(cite(1, "c-bio"),),
        abstained=False,
        language="zh",
    ),
}


def fake_ask(question: str) -> Answer:
    return ANSWERS[question]


def ticking_clock():
    # Each call advances 0.5 s, so every timed call takes exactly 0.5 s.
    counter = itertools.count()
    return lambda: next(counter) * 0.5


def test_run_eval_with_search_and_ask() -> None:
    result = run_eval(ITEMS, search=fake_search, ask=fake_ask, k=2, clock=ticking_clock())
    bci, rev, jobs, bio = result.rows
    # BCI: the relevant chunk is at rank 2 -> RR 0.5, nDCG@2 = (1/log2 3) / 1 = 0.631.
    assert bci.retrieved == ("c-bio", "c-bci") and bci.relevant == ("c-bci",)
    assert (bci.first_relevant_rank, bci.reciprocal_rank) == (2, 0.5)
    assert bci.ndcg == pytest.approx(0.6309, abs=1e-4)
    assert bci.facts_found == (True, True) and bci.forbidden_found == ("江夏区", "Jiangxia")
    assert bci.passed is False and bci.reasons == ("forbidden: 江夏区", "forbidden: Jiangxia")
    # Set F1: TP 2, FP 1 (Jiangxia once, both spellings one entity), FN 0 -> 4/5 = 0.8.
    assert bci.set_f1 == pytest.approx(0.8)
    assert [c.supported for c in bci.citations] == [True, False]
    assert rev.passed is True and rev.reciprocal_rank == 1.0 and rev.set_f1 is None
    assert jobs.passed is True and jobs.hit is None and jobs.citations == ()
    assert bci.answer_seconds == 0.5 and bci.search_seconds == 0.5

    assert bio.passed is True and bio.set_f1 == 1.0

    overall = result.metrics.overall
    assert overall.mrr == pytest.approx((0.5 + 1 + 1) / 3)  # 0.833
    assert overall.hit_rate == 1.0
    assert overall.pass_rate == 0.75  # 3 of 4
    assert overall.set_f1 == pytest.approx((0.8 + 1.0) / 2)  # bci and bio are list questions
    assert overall.citation_accuracy == 0.75  # 3 of 4 citations supported
    assert overall.forbidden_rate == 1.0  # the only question with a forbidden list tripped it
    assert (overall.abstention_precision, overall.abstention_recall) == (1.0, 1.0)
    assert set(result.metrics.by_lang) == {"en", "zh"}
    assert result.metrics.by_lang["zh"].pass_rate == 1.0
    assert list(result.metrics.by_category) == ["districts", "targets", "unanswerable"]


def test_judging_against_all_chunks_counts_missed_ones() -> None:
    # With every chunk judged, "rev" has one relevant chunk; k=1 retrieval still finds it first.
    result = run_eval(ITEMS, search=fake_search, ask=None, k=1, chunks=list(CHUNKS.values()))
    bci, rev, _, bio = result.rows
    assert bci.relevant == ("c-bci",) and bci.hit == 0.0 and bci.first_relevant_rank is None
    assert rev.hit == 1.0 and bio.hit == 1.0
    assert result.metrics.overall.hit_rate == pytest.approx(2 / 3)
    assert result.metrics.overall.pass_rate is None and not result.answered


def test_ask_only_and_errors_are_recorded() -> None:
    def flaky(question: str) -> Answer:
        if question.startswith("2027"):
            raise RuntimeError("model went away")
        return fake_ask(question)

    result = run_eval(ITEMS, search=None, ask=flaky)
    _, rev, _, _ = result.rows
    assert rev.passed is False and rev.error == "ask failed: RuntimeError: model went away"
    assert rev.key_fact_recall == 0.0
    assert result.metrics.overall.errors == 1 and result.metrics.overall.hit_rate is None


def test_bad_k_and_duplicate_ids() -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        run_eval(ITEMS, search=fake_search, ask=None, k=0)
    with pytest.raises(ValueError, match="duplicate question ids"):
        run_eval([ITEMS[0], ITEMS[0]], search=None, ask=fake_ask)

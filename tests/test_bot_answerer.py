"""Extractive answering logic on the bundled corpus with the fake embedder (no model)."""

from __future__ import annotations

import pytest

from policybot.bot.answerer import ExtractiveAnswerer
from policybot.bot.question import analyze
from policybot.index.builder import build_index
from policybot.index.embedder import FakeEmbedder
from policybot.index.retriever import Retriever
from policybot.ingest.pipeline import default_corpus_dir

DISTRICTS = ["东湖高新区", "武汉经开区", "长江新区", "江岸区", "江汉区", "硚口区", "汉阳区", "武昌区", "青山区", "洪山区",
             "东西湖区", "汉南区", "蔡甸区", "江夏区", "黄陂区", "新洲区"]


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory) -> ExtractiveAnswerer:
    out = tmp_path_factory.mktemp("idx") / "index"
    build_index([default_corpus_dir()], out, embedder=FakeEmbedder())
    # The fake embedder's scores are not calibrated: test the logic with abstention by score off.
    return ExtractiveAnswerer(Retriever.open(out, FakeEmbedder()), abstain_below=-1.0)


def _districts(text: str) -> set[str]:
    return {d for d in DISTRICTS if d in text}


def test_bci_districts_english(answerer: ExtractiveAnswerer) -> None:
    a = answerer.answer("Which districts host brain-computer interface work?")
    assert not a.abstained and a.language == "en"
    assert "East Lake High-tech Zone (东湖高新区)" in a.text and "Hongshan District (洪山区)" in a.text
    assert _districts(a.text) == {"东湖高新区", "洪山区"}
    assert len(a.citations) == 1 and "[1]" in a.text
    c = a.citations[0]
    assert c.quote.startswith("脑机接口依托东湖高新区、洪山区等区")
    assert answerer.doc_texts[c.doc_id][c.start : c.end] == c.quote
    assert c.quote in c.text and c.section == ("未来健康", "脑机接口")


def test_bci_districts_chinese(answerer: ExtractiveAnswerer) -> None:
    a = answerer.answer("哪些区发展脑机接口?")
    assert a.language == "zh" and _districts(a.text) == {"东湖高新区", "洪山区"}
    assert "[1]" in a.text


def test_direction_level_districts_are_grouped(answerer: ExtractiveAnswerer) -> None:
    a = answerer.answer("Which districts are involved in future energy?")
    assert "Electromagnetic energy" in a.text and "New-type energy storage" in a.text
    assert _districts(a.text) == {"东湖高新区", "江夏区", "武汉经开区", "长江新区", "黄陂区"}
    assert len(a.citations) == 2


def test_reverse_lookup_place_to_subfields(answerer: ExtractiveAnswerer) -> None:
    a = answerer.answer("Which sub-fields does Hongshan District host?")
    for name in ("未来网络", "深地深海深空", "脑机接口"):
        assert name in a.text
    assert "量子科技" not in a.text  # hosted by Wuchang, not Hongshan


def test_subfields_of_a_direction(answerer: ExtractiveAnswerer) -> None:
    a = answerer.answer("未来信息方向重点发展哪些细分领域?")
    assert "元宇宙、未来网络、量子科技、通用人工智能、先进半导体" in a.text
    assert "5个" in a.text


def test_general_answer_is_a_cited_quote(answerer: ExtractiveAnswerer) -> None:
    a = answerer.answer("武汉基金和江城基金分别聚焦什么阶段?")
    assert "天使种子期" in a.text and a.citations
    for c in a.citations:
        assert c.quote in a.text


def test_abstains_on_missing_amount_and_unknown_names(answerer: ExtractiveAnswerer) -> None:
    for q in ["What is the budget for quantum technology?", "What does Shanghai plan for robots?",
              "What is the revenue target for 2030?"]:
        a = answerer.answer(q)
        assert a.abstained, q
        assert a.text.startswith("The documents do not say") and a.related and not a.citations


def test_chinese_abstention_in_chinese(answerer: ExtractiveAnswerer) -> None:
    a = answerer.answer("上海的未来产业规划是什么?")
    assert a.abstained and a.text.startswith("文件中没有提到")


def test_question_analysis() -> None:
    assert analyze("Where is quantum technology developed?").intent == "places"
    assert analyze("How much money goes to biomanufacturing?").intent == "amount"
    assert analyze("When was the press conference held?").intent == "date"
    assert analyze("How many innovation centres will be set up?").intent == "count"
    assert analyze("哪些区发展脑机接口？").subjects[0].en == "brain-computer interfaces"
    assert analyze("What does Huawei do in Wuhan?").names == ("Huawei",)


def test_off_topic_english_needs_a_clearly_better_match(answerer: ExtractiveAnswerer) -> None:
    # Scores here come from the fake embedder; with the threshold at 0.5 the margin puts the
    # off-topic bar at 0.58, above anything junk can reach, while topical questions still answer.
    strict = ExtractiveAnswerer(answerer.retriever, abstain_below=0.5)
    junk = strict.answer("<script>alert(1)</script> asdf qwer")
    assert junk.abstained and any("names nothing" in n for n in junk.notes)
    topical = strict.answer("Which districts host brain-computer interface work?")
    assert not any("names nothing" in n for n in topical.notes)

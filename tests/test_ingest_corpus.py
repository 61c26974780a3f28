"""The bundled corpus: nothing of the policy lost, none of the page boilerplate kept."""

from __future__ import annotations

import re
import unicodedata

import pytest

from policybot.ingest.pipeline import IngestOptions, default_corpus_dir, ingest_paths

SUBFIELDS = {
    "未来制造": ["未来显示", "人形机器人"],
    "未来信息": ["元宇宙", "未来网络", "量子科技", "通用人工智能", "先进半导体"],
    "未来材料": ["未来新材料"],
    "未来能源": ["电磁能", "新型储能"],
    "未来空间": ["深地深海深空"],
    "未来健康": ["生物制造", "脑机接口"],
}
BOILERPLATE = ["光纤在线编辑部", "文章来源", "二维码", "扫一扫", "朋友圈", "相关产品", "公众号", "官方微信", "光纤在线讯"]


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return ingest_paths([default_corpus_dir()], options=IngestOptions())


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def test_one_document_no_failures(result) -> None:  # type: ignore[no-untyped-def]
    assert len(result.documents) == 1
    assert result.failures == ()
    assert result.chunks


def test_no_boilerplate_in_chunks(result) -> None:  # type: ignore[no-untyped-def]
    joined = "".join(c.text for c in result.chunks)
    for phrase in BOILERPLATE:
        assert phrase not in joined, phrase
    # The site name survives only inside real sentences, never as a line of its own.
    assert not any(line.strip() == "光纤在线" for c in result.chunks for line in c.text.splitlines())


def _covered_text(result) -> str:  # type: ignore[no-untyped-def]
    """The document text that some chunk covers, in order, each character once (overlaps merged)."""
    doc = result.documents[0]
    covered = [False] * len(doc.text)
    for c in result.chunks:
        for i in range(c.start, c.end):
            covered[i] = True
    return "".join(ch for ch, ok in zip(doc.text, covered, strict=True) if ok)


def test_every_content_paragraph_is_in_chunks(result, corpus_raw) -> None:  # type: ignore[no-untyped-def]
    joined = _norm(_covered_text(result))
    content = [line for line in corpus_raw.splitlines() if len(line.strip()) > 30 and "编辑部" not in line]
    assert len(content) >= 20
    for line in content:
        body = _norm(line).replace("?", "")  # the stray '?' artefacts are repaired
        body = re.sub(r"^8/02/2024,光纤在线讯,", "", body)
        body = re.sub(r"^导读:", "", body)
        assert body in joined.replace("?", ""), line[:40]


def test_targets_funds_and_centres_present(result) -> None:  # type: ignore[no-untyped-def]
    joined = "".join(c.text for c in result.chunks)
    for fact in ["到2027年", "1000亿元", "到2035年", "万亿级", "江城基金", "天使种子期", "10个由龙头企业牵头的产业联合创新中心",
                 "经信局、科技局、财政局"]:
        assert fact in joined, fact


def test_each_subfield_has_a_chunk_under_its_direction(result) -> None:  # type: ignore[no-untyped-def]
    for direction, subs in SUBFIELDS.items():
        for sub in subs:
            chunks = [c for c in result.chunks if c.section[-2:] == (direction, sub)]
            assert chunks, f"{direction} › {sub}"
            assert any("依托" in c.text for c in chunks), f"{sub} chunk lacks its host districts"


def test_no_chunk_is_only_a_heading(result) -> None:  # type: ignore[no-untyped-def]
    doc = result.documents[0]
    headings = {doc.text[a:b] for a, b in doc.headings}
    assert len(headings) == 4
    for c in result.chunks:
        assert c.text.strip() not in headings
        assert c.text.strip() != doc.title


def test_bci_chunk_names_both_districts(result) -> None:  # type: ignore[no-untyped-def]
    bci = [c for c in result.chunks if c.section[-1:] == ("脑机接口",)]
    assert any("东湖高新区、洪山区" in c.text for c in bci)


def test_spans_and_offsets_point_back_to_the_file(result, corpus_raw) -> None:  # type: ignore[no-untyped-def]
    doc = result.documents[0]
    for c in result.chunks:
        assert doc.text[c.start : c.end] == c.text
        a, b = doc.raw_span(c.start, c.end)
        original = corpus_raw[a:b]
        # Same characters, except the line breaks between paragraphs and repaired artefacts.
        assert _norm(original).replace("?", "") .startswith(_norm(c.text)[:10])
    for i, ch in enumerate(doc.text):
        if ch != "\n":
            assert corpus_raw[doc.offsets[i]] == ch

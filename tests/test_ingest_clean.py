"""Cleaning rules on pages other than the bundled one."""

from __future__ import annotations

from policybot.ingest.clean import clean_text

PAGE = """关于加快发展低空经济的若干措施

来源：某市人民政府网  发布时间：2024-05-06 10:00  浏览次数：123
责任编辑：张三

本报讯，市政府日前印发《关于加快发展低空经济的若干措施》。

一、总体目标
到2026年，全市低空经济规模达到300亿元。�

分享到：微信 微博 QQ空间
扫一扫在手机打开当前页
【打印】【关闭】
上一篇：关于某事的通知
下一篇：关于另一事的通知
"""


def test_general_boilerplate_rules() -> None:
    c = clean_text(PAGE)
    assert "浏览次数" not in c.text and "责任编辑" not in c.text
    assert "分享到" not in c.text and "扫一扫" not in c.text
    assert "上一篇" not in c.text and "打印" not in c.text
    assert "本报讯" not in c.text
    assert c.text.startswith("关于加快发展低空经济的若干措施\n市政府日前印发")
    assert "到2026年，全市低空经济规模达到300亿元。" in c.text
    assert "\ufffd" not in c.text
    reasons = {d.reason for d in c.dropped}
    assert {"source line", "share prompt", "related-links block", "dateline"} <= reasons


def test_offsets_map_every_kept_character_back() -> None:
    c = clean_text(PAGE)
    assert len(c.offsets) == len(c.text) + 1
    for i, ch in enumerate(c.text):
        if ch != "\n":
            assert PAGE[c.offsets[i]] == ch


def test_question_mark_in_a_real_question_is_kept() -> None:
    c = clean_text("如何申请补贴?请咨询经信局。")
    assert c.text == "如何申请补贴?请咨询经信局。"


def test_english_page() -> None:
    page = "City plan for robots\nSource: Example News  2024-01-02 08:00\nThe city will fund 10 robot labs.\nShare this article\nRelated articles\nAnother story"
    c = clean_text(page)
    assert c.text == "City plan for robots\nThe city will fund 10 robot labs."


def test_empty_and_whitespace() -> None:
    assert clean_text("").text == ""
    assert clean_text(" \n\n\t ").text == ""

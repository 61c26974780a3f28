"""Cleaning reprinted web pages: drop page boilerplate, repair artefacts, keep an offset map.

The rules are general ones for news pages that reprint a policy (editor and source
lines, share and QR-code prompts, "related" blocks, site-name lines, datelines),
not a list of one file's lines. Every kept character remembers where it came
from in the raw text, so a citation can always point at the original file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from policybot.ingest.records import DroppedLine

# Lines of page furniture: who edited or reprinted it, when it was posted.
_SOURCE_LINE = re.compile(
    r"(编辑部|责任编辑|编辑\s*[:：]|作者\s*[:：]|记者\s*[:：]|来源\s*[:：]|文章来源|稿源|原文转载|"
    r"发布时间|发表时间|浏览次数|阅读量|阅读次数|点击数|字号\s*[:：]|【字体|"
    r"\b(editor|source|author|posted (on|by)|published on|views?)\s*:)",
    re.I,
)
# Prompts to share, scan or follow.
_SHARE_LINE = re.compile(
    r"(二维码|扫一扫|扫描|分享至|分享到|朋友圈|微信|公众号|关注我们|长按识别|点击关注|订阅号|视频号|"
    r"\b(share (this|on)|scan the qr|qr code|follow us|subscribe)\b)",
    re.I,
)
# Headers of blocks that list other pages, and page footers.
_RELATED_LINE = re.compile(
    r"^(相关(产品|阅读|新闻|文章|推荐|链接|报道)|推荐阅读|热门(文章|推荐)|延伸阅读|猜你喜欢|上一篇|下一篇|"
    r"返回(顶部|首页)|打印(本页)?|关闭(窗口)?|【(打印|关闭)】|版权(所有|声明)|免责声明|"
    r"(related (articles|posts|products|news)|read more|back to top|all rights reserved|copyright)\b)",
    re.I,
)
_TIMESTAMP = re.compile(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?\s+\d{1,2}:\d{2}")
# "8/02/2024,光纤在线讯," or "本报讯 " at the start of a paragraph: the wire's dateline.
_DATELINE = re.compile(
    r"^\s*(\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\s*[,，]?\s*)?[\u4e00-\u9fffA-Za-z]{1,10}讯\s*[,，:：]?\s*"
    r"|^\s*[（(]\s*记者[^）)]{1,20}[）)]\s*"
)
_LABEL = re.compile(r"^\s*(导读|摘要|编者按|核心提示)\s*[:：]\s*")
# A '?' or U+FFFD right after a comma-like mark and before text is a lost character
# (often a non-breaking space), never a real question mark.
_STRAY = re.compile(r"(?<=[,，、;；:：])[?\ufffd](?=\S)|\ufffd|[\u200b\u200c\u200d\u2060\ufeff]")
_SENTENCE_END = re.compile(r"[。！？!?；;…”」』）)]$|[.]$")

MAX_FURNITURE_CHARS = 80


@dataclass(frozen=True)
class CleanText:
    """Cleaned text plus `offsets[i]` = raw offset of cleaned character i (one extra at the end)."""

    text: str
    offsets: tuple[int, ...]
    dropped: tuple[DroppedLine, ...]
    repairs: int
    lead_index: int | None


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def _furniture_reason(line: str) -> str | None:
    """Why a whole line is page furniture, or None if it may be content.

    >>> _furniture_reason("光纤在线编辑部  2024-08-02 09:04:56  文章来源:原文转载")
    'source line'
    >>> _furniture_reason("使用“扫一扫”即可将网页分享至朋友圈。")
    'share prompt'
    >>> _furniture_reason("未来产业是由前沿技术驱动的新兴产业。") is None
    True
    """
    if len(line) > MAX_FURNITURE_CHARS:
        return None
    if _RELATED_LINE.search(line):
        return "related-links block"
    if _SOURCE_LINE.search(line) or (_TIMESTAMP.search(line) and len(line) < 60):
        return "source line"
    if len(line) <= 40 and _SHARE_LINE.search(line):
        return "share prompt"
    return None


def _is_content(line: str) -> bool:
    return bool(_SENTENCE_END.search(line)) or len(line) > 40


def clean_text(raw: str) -> CleanText:
    """Clean a page's text; see the module docstring for the rules.

    >>> c = clean_text("标题\\n\\n编辑部 2024-08-02 09:04\\n正文一句,?再一句。\\n相关产品")
    >>> c.text
    '标题\\n正文一句,再一句。'
    >>> [d.reason for d in c.dropped]
    ['source line', 'related-links block']
    """
    lines: list[tuple[int, str]] = []
    pos = 0
    for piece in raw.splitlines(keepends=True):
        body = piece.rstrip("\r\n")
        lines.append((pos, body))
        pos += len(piece)

    dropped: list[DroppedLine] = []
    kept: list[list[tuple[int, str]]] = []  # per kept line: (raw offset, char) pairs
    furniture_text = ""
    seen: set[str] = set()
    repairs = 0
    lead_index: int | None = None
    after_related = False
    for start, body in lines:
        stripped = body.strip()
        if not stripped:
            continue
        reason = "after related-links block" if after_related else _furniture_reason(stripped)
        if reason == "related-links block":
            after_related = True
        if reason is None and furniture_text and len(stripped) <= 12 and stripped in furniture_text:
            reason = "site name"
        if reason is not None:
            dropped.append(DroppedLine(stripped, reason))
            furniture_text += stripped
            continue
        chars = [(start + i, ch) for i, ch in enumerate(body)]
        text = body
        # Strip leading whitespace, a dateline and a "导读:"-style label, in offset-keeping steps.
        for pattern, why in ((re.compile(r"^\s+"), ""), (_DATELINE, "dateline"), (_LABEL, "label")):
            m = pattern.match(text)
            if m and m.end() > 0 and m.end() < len(text):
                if why:
                    dropped.append(DroppedLine(text[: m.end()].strip(), why))
                    if why == "label" and lead_index is None:
                        lead_index = len(kept)
                chars, text = chars[m.end() :], text[m.end() :]
        while chars and chars[-1][1].isspace():
            chars.pop()
        text = "".join(ch for _, ch in chars)
        stray = {m.start() for m in _STRAY.finditer(text)}
        if stray:
            repairs += len(stray)
            chars = [c for i, c in enumerate(chars) if i not in stray]
            text = "".join(ch for _, ch in chars)
        key = _norm(text)
        if len(key) >= 20 and key in seen:
            dropped.append(DroppedLine(text, "duplicate paragraph"))
            continue
        seen.add(key)
        kept.append(chars)

    # Short lines after the last real paragraph head nothing: they are page tails.
    while kept and not _is_content("".join(ch for _, ch in kept[-1])):
        dropped.append(DroppedLine("".join(ch for _, ch in kept.pop()), "page tail"))

    out_chars: list[str] = []
    offsets: list[int] = []
    for i, chars in enumerate(kept):
        if i:
            prev_end = kept[i - 1][-1][0] + 1
            out_chars.append("\n")
            offsets.append(prev_end)
        for off, ch in chars:
            out_chars.append(ch)
            offsets.append(off)
    offsets.append(len(raw) if not kept else kept[-1][-1][0] + 1)
    return CleanText("".join(out_chars), tuple(offsets), tuple(dropped), repairs, lead_index)

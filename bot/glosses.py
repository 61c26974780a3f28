"""English glosses for Chinese numbers, dates and known terms quoted in an English answer."""

from __future__ import annotations

import re

from policybot.bot.entities import find_entities

_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
              "百": 100, "千": 1000}
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]


def _cn_number(s: str) -> float | None:
    """'1000' → 1000, '五百' → 500, '千' → 1000, '百' → 100.

    >>> _cn_number("五百"), _cn_number("1000"), _cn_number("千")
    (500.0, 1000.0, 1000.0)
    """
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return float(s)
    total, current = 0, 0
    for ch in s:
        v = _CN_DIGITS.get(ch)
        if v is None:
            return None
        if v >= 10:
            total += (current or 1) * v
            current = 0
        else:
            current = v
    return float(total + current) or None


def _human(value: float) -> str:
    """Yuan amounts in English words: 1e11 → '100 billion', 1e12 → '1 trillion'."""
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if value >= size:
            n = value / size
            return f"{n:g} {word}"
    return f"{value:,.0f}"


def number_glosses(text: str) -> list[tuple[str, str]]:
    """(Chinese expression, English gloss) for the amounts and dates in `text`.

    >>> for pair in number_glosses("突破1000亿元,打造100亿级集群,达到万亿级,若干个五百亿级产业"):
    ...     print(pair)
    ('1000亿元', '100 billion yuan')
    ('100亿级', '10-billion-yuan-scale')
    ('万亿级', '1-trillion-yuan-scale')
    ('五百亿级', '50-billion-yuan-scale')
    >>> number_glosses("8月1日,今年4月")
    [('8月1日', 'August 1'), ('4月', 'April')]
    """
    out: list[tuple[str, str]] = []
    pattern = re.compile(
        r"(?P<amount>(?P<n>\d+(?:\.\d+)?|[一二两三四五六七八九十百千]+)?(?P<unit>万亿|亿|万)(?P<suffix>元|级))"
        r"|(?P<date>(?P<m>1[0-2]|[1-9])月(?:(?P<d>[1-3]?\d)日)?)"
    )
    for m in pattern.finditer(text):
        if m.group("amount"):
            n = _cn_number(m.group("n")) if m.group("n") else 1.0
            if n is None:
                continue
            scale = {"万亿": 1e12, "亿": 1e8, "万": 1e4}[m.group("unit")]
            words = _human(n * scale)
            gloss = f"{words} yuan" if m.group("suffix") == "元" else f"{words.replace(' ', '-')}-yuan-scale"
            out.append((m.group(0), gloss))
        elif m.group("date"):
            month = _MONTHS[int(m.group("m")) - 1]
            out.append((m.group(0), f"{month} {m.group('d')}" if m.group("d") else month))
    seen: set[str] = set()
    return [(zh, en) for zh, en in out if not (zh in seen or seen.add(zh))]  # type: ignore[func-returns-value]


def term_glosses(text: str) -> list[tuple[str, str]]:
    """(Chinese name, English name) of the places and topics named in `text`."""
    out: list[tuple[str, str]] = []
    for m in find_entities(text):
        pair = (m.entity.zh, m.entity.en)
        if pair not in out:
            out.append(pair)
    return out


def gloss_line(text: str, *, limit: int = 12) -> str:
    """'1000亿元 = 100 billion yuan; 东湖高新区 = East Lake High-tech Zone' for a quoted text."""
    pairs = number_glosses(text) + term_glosses(text)
    return "; ".join(f"{zh} = {en}" for zh, en in pairs[:limit])

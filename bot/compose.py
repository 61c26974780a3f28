"""Wording answers in the question's language, with `[n]` after each claim."""

from __future__ import annotations

from policybot.bot.entities import Entity
from policybot.bot.glosses import gloss_line

_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
                 9: "nine", 10: "ten", 11: "eleven", 12: "twelve", 13: "thirteen"}


def abstention(language: str) -> str:
    if language == "zh":
        return "文件中没有提到这一点。以下是最相关的段落，供参考。"
    return "The documents do not say. The closest passages are listed below as related reading."


def _and(items: list[str], language: str) -> str:
    """Join a list the way each language does.

    >>> _and(["A", "B", "C"], "en"), _and(["甲", "乙"], "zh")
    ('A, B and C', '甲、乙')
    """
    if language == "zh":
        return "、".join(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def places_line(topic: Entity | None, places: list[Entity], n: int, language: str) -> str:
    """One sub-field and its host districts.

    >>> from policybot.bot.entities import Entity
    >>> bci = Entity("脑机接口", "brain-computer interfaces", "subfield")
    >>> ps = [Entity("东湖高新区", "East Lake High-tech Zone", "place"), Entity("洪山区", "Hongshan District", "place")]
    >>> places_line(bci, ps, 1, "en")
    'Brain-computer interfaces (脑机接口): East Lake High-tech Zone (东湖高新区) and Hongshan District (洪山区) [1]'
    >>> places_line(bci, ps, 1, "zh")
    '脑机接口：东湖高新区、洪山区[1]'
    """
    names = _and([p.label(language) for p in places], language)
    if language == "zh":
        return f"{topic.zh}：{names}[{n}]" if topic else f"{names}[{n}]"
    return f"{_cap(topic.label('en'))}: {names} [{n}]" if topic else f"{names} [{n}]"


def join_lines(lines: list[str], language: str) -> str:
    end = "。" if language == "zh" else "."
    if len(lines) == 1:
        return lines[0] + end
    return "\n".join(f"- {line}{'；' if language == 'zh' else ';'}" for line in lines[:-1]) + f"\n- {lines[-1]}{end}"


def topics_for_place(place: Entity, items: list[tuple[Entity | None, int]], language: str) -> str:
    """The sub-fields a place hosts, each cited."""
    labels = [f"{t.label(language)}[{n}]" if language == "zh" else f"{t.label('en')} [{n}]" for t, n in items if t]
    if language == "zh":
        return f"{place.zh}承载的细分领域：{'、'.join(labels)}。"
    return f"{place.label('en')} hosts work on {_and(labels, 'en')}."


def topic_list(direction: Entity | None, listed: list[Entity], n: int, language: str) -> str:
    """The sub-fields of a direction, or the directions themselves, from one cited sentence."""
    count = len(listed)
    if language == "zh":
        names = "、".join(e.zh for e in listed)
        if direction:
            return f"{direction.zh}方向重点发展{count}个细分领域：{names}[{n}]。"
        return f"共{count}大方向：{names}[{n}]。"
    names = _and([e.label("en") for e in listed], "en")
    word = _NUMBER_WORDS.get(count, str(count))
    if direction:
        return f"{_cap(direction.label('en'))} covers {word} sub-fields: {names} [{n}]."
    return f"The {word} directions are {names} [{n}]."


def direction_of(sub: Entity, direction: Entity | None, n: int, language: str) -> str:
    """Which direction a sub-field belongs to."""
    if direction is None:
        return ""
    if language == "zh":
        return f"{sub.zh}属于{direction.zh}方向[{n}]。"
    return f"{_cap(sub.label('en'))} belongs to the {direction.label('en')} direction [{n}]."


def quoted(quotes: list[tuple[str, int]], language: str) -> str:
    """The answering sentences themselves; in English, quoted and glossed."""
    if language == "zh":
        return "".join(f"{text}[{n}]" for text, n in quotes)
    body = " ".join(f"“{text}” [{n}]" for text, n in quotes)
    gloss = gloss_line(" ".join(text for text, _ in quotes))
    answer = f"According to the documents: {body}"
    return f"{answer}\n({gloss})" if gloss else answer

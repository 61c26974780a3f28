"""Reading a question: its language, what kind of answer it wants, and what it is about."""

from __future__ import annotations

import re
from dataclasses import dataclass

from policybot.bot.entities import Entity, find_entities, unique
from policybot.index.lexicon import has_cjk

_INTENTS: list[tuple[str, re.Pattern[str]]] = [
    # Naming districts outright beats everything else ("Which four districts host the metaverse sub-field?").
    ("places", re.compile(r"\b(which|what|name|list)\b.*\bdistricts?\b|哪些区|哪个区|哪几个区|哪两个区|区域", re.I)),
    ("topics", re.compile(
        r"\b(which|what|list|name)\b.*\b(sub-?fields?|directions?)\b|\bhow many\b.*\b(sub-?fields?|directions)\b|"
        r"哪些细分领域|哪几个细分领域|哪两个细分领域|哪个细分领域|多少个细分领域|几个细分领域|细分领域(有|是|包括)|"
        r"哪些方向|哪几个方向|哪个方向|几大方向|六大方向|哪些产业方向", re.I)),
    ("places", re.compile(
        r"\b(districts?|zones?)\b|\bwhere\b(?!.*\b(appl\w*|used?|uses)\b)|\bhost(s|ed|ing)?\b|\blocated\b|"
        r"\bbased\b|哪些区|哪个区|哪几个区|哪两个区|哪些地区|区域|依托|哪里|哪儿|哪些地方", re.I)),
    ("amount", re.compile(
        r"\bhow much\b|\bbudget|\bspend|\bcost|\bamount\b|\bin (yuan|rmb|dollars)\b|\bhow (large|big) is\b|"
        r"多少钱|预算|投资额|投入多少|资金规模|多少资金|补贴多少|奖励多少|多少亿元", re.I)),
    ("date", re.compile(
        r"\bwhen\b|\bwhat date\b|\bwhich (day|month|year)\b|\bin which month\b|什么时候|何时|哪天|哪一天|哪年|"
        r"哪个月|几月|几号", re.I)),
    ("count", re.compile(r"\bhow many\b|多少个|几个|几家|多少家|多少", re.I)),
    ("yesno", re.compile(
        r"^(is|are|does|do|did|was|were|will|can|has|have|should)\b|吗\s*[?？]?\s*$|是否|有没有", re.I)),
]

_APPLICATION = re.compile(r"应用|\bappl(y|ied|ication|ications)\b|\buses?\b", re.I)
# Questions that ask for specific names: an answer must then contain one.
NAME_REQUEST = re.compile(
    r"\b(which|what)\s+(companies|company|firms?|enterprises?|people|persons?|officials?|universities|banks)\b|"
    r"\bnames?\s+of\b|\bwhat\s+is\s+(his|her|their)\s+name\b|\bcalled\b|叫什么|名字|哪些企业|哪些公司|哪家企业|哪家公司|是谁",
    re.I,
)
_MONTH_NAMES = "january february march april may june july august september october november december"
# Capitalised words that carry no name (question words, common sentence openers).
_COMMON = frozenset(
    "what which where when who whom whose why how is are does do did was were will can has have should the a an "
    "in on of for to and or according please tell me list name give describe explain wuhan wuhan's china chinese "
    "i we you they it its this that these those there plan document documents policy city government municipal "
    "english yes no future".split()
)
_KNOWN_EN = frozenset("wuhan china hubei".split())


@dataclass(frozen=True)
class QuestionInfo:
    text: str
    language: str
    intent: str
    subjects: tuple[Entity, ...]
    places: tuple[Entity, ...]
    years: tuple[str, ...]
    names: tuple[str, ...]


def detect_language(text: str) -> str:
    """'zh' if the text has Chinese characters, else 'en'.

    >>> detect_language("哪些区发展脑机接口?"), detect_language("Which districts?")
    ('zh', 'en')
    """
    return "zh" if has_cjk(text) else "en"


def _english_names(text: str, mentions_spans: list[tuple[int, int]]) -> list[str]:
    """Capitalised words inside a sentence that neither the lexicon nor common English knows."""
    from policybot.index.lexicon import english_words

    known = english_words()
    names = []
    for m in re.finditer(r"\b[A-Z][A-Za-z'’\-]{2,}\b", text):
        if any(a <= m.start() < b for a, b in mentions_spans):
            continue
        if not text[: m.start()].strip() or re.search(r"[.?!:]\s*$", text[: m.start()]):
            continue  # the first word of a sentence is capitalised anyway
        word = re.sub(r"['’]s$", "", m.group(0).lower())
        if word in _COMMON or word in _KNOWN_EN or word in known or word in _MONTH_NAMES.split():
            continue
        names.append(m.group(0))
    return names


def _chinese_names(text: str) -> list[str]:
    """Place, person and organisation names jieba tags in a Chinese question."""
    import logging

    import jieba
    import jieba.posseg as pseg

    jieba.setLogLevel(logging.WARNING)
    return [w.word for w in pseg.cut(text) if w.flag in ("ns", "nr", "nt", "nz") and len(w.word) >= 2]


def analyze(question: str) -> QuestionInfo:
    """Classify a question.

    >>> i = analyze("Which districts host brain-computer interface work?")
    >>> i.language, i.intent, [e.zh for e in i.subjects]
    ('en', 'places', ['脑机接口'])
    >>> analyze("未来信息方向重点发展哪些细分领域?").intent
    'topics'
    """
    language = detect_language(question)
    intent = "general"
    for name, pattern in _INTENTS:
        if pattern.search(question):
            if name == "topics" and _APPLICATION.search(question):
                continue  # "在哪些方向的应用" asks for applications, not for the plan's directions
            intent = name
            break
    mentions = find_entities(question)
    subjects = tuple(e for e in unique(mentions) if e.kind in ("direction", "subfield"))
    places = tuple(e for e in unique(mentions) if e.kind == "place")
    years = tuple(re.findall(r"(?<!\d)(20\d\d)(?!\d)", question))
    spans = [(m.start, m.end) for m in mentions]
    names = _english_names(question, spans) if language == "en" else _chinese_names(question)
    return QuestionInfo(question, language, intent, subjects, places, years, tuple(names))

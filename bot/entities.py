"""Finding named places and topics in text, with their English names (gazetteer + glossary data)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from policybot.index.lexicon import load_lexicon


@dataclass(frozen=True)
class Entity:
    """A place, direction or sub-field: the Chinese name used in answers, its English name, and kind."""

    zh: str
    en: str
    kind: str  # "place", "direction" or "subfield"

    def label(self, language: str) -> str:
        """'East Lake High-tech Zone (东湖高新区)' in English, '东湖高新区' in Chinese."""
        return f"{self.en} ({self.zh})" if language == "en" else self.zh


@dataclass(frozen=True)
class Mention:
    entity: Entity
    start: int
    end: int


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[tuple[tuple[str, Entity], ...], tuple[tuple[re.Pattern[str], Entity], ...]]:
    zh_forms: list[tuple[str, Entity]] = []
    en_forms: list[tuple[re.Pattern[str], Entity, int]] = []
    for e in load_lexicon():
        if e.kind == "term":
            continue
        ent = Entity(e.zh[0], e.en[0], e.kind)
        for z in e.zh:
            zh_forms.append((z, ent))
        for en in e.en:
            body = r"[\s\-]+".join(re.escape(w) for w in re.split(r"[\s\-]+", en.strip()))
            en_forms.append((re.compile(rf"(?<![\w]){body}(?![\w])", re.I), ent, len(en)))
    zh_forms.sort(key=lambda p: -len(p[0]))
    en_forms.sort(key=lambda p: -p[2])
    return tuple(zh_forms), tuple((p, e) for p, e, _ in en_forms)


def find_entities(text: str, *, kinds: tuple[str, ...] = ("place", "direction", "subfield")) -> list[Mention]:
    """Non-overlapping mentions (longest first), in text order, Chinese and English forms alike.

    >>> [m.entity.zh for m in find_entities("脑机接口依托东湖高新区、洪山区等区")]
    ['脑机接口', '东湖高新区', '洪山区']
    >>> [m.entity.zh for m in find_entities("Which districts host brain-computer interfaces?")]
    ['脑机接口']
    """
    zh_forms, en_forms = _tables()
    taken = [False] * len(text)
    found: list[Mention] = []

    def claim(a: int, b: int, ent: Entity) -> None:
        if ent.kind in kinds and not any(taken[a:b]):
            for i in range(a, b):
                taken[i] = True
            found.append(Mention(ent, a, b))

    for form, ent in zh_forms:
        start = text.find(form)
        while start != -1:
            claim(start, start + len(form), ent)
            start = text.find(form, start + 1)
    for pattern, ent in en_forms:
        for m in pattern.finditer(text):
            claim(m.start(), m.end(), ent)
    found.sort(key=lambda m: m.start)
    return found


def unique(mentions: list[Mention]) -> list[Entity]:
    """Entities in order of first mention, each once."""
    out: list[Entity] = []
    for m in mentions:
        if m.entity not in out:
            out.append(m.entity)
    return out


@functools.lru_cache(maxsize=1)
def topic_parents() -> dict[str, str]:
    """Sub-field (zh) → its direction (zh), from the glossary."""
    from policybot.ingest.glossary import load_glossary

    return {t.zh: t.parent or "" for t in load_glossary().subfields}


def entity_by_zh(zh: str) -> Entity | None:
    """The place or topic whose answer name is `zh`, if the lexicon knows it.

    >>> entity_by_zh("脑机接口").en, entity_by_zh("")
    ('brain-computer interfaces', None)
    """
    for m in find_entities(zh) if zh else ():
        if m.entity.zh == zh:
            return m.entity
    return None

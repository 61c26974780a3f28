"""Bilingual domain vocabulary (data files) for tokenizing and for bridging English queries.

The gazetteer (places), glossary (directions, sub-fields) and general terms are
data under `data/lexicon/`. Their Chinese forms become jieba user words, so
"东湖高新区" stays one token; their English forms let an English question find
Chinese text lexically ("Hongshan" → 洪山区).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any
from importlib import resources


class LexiconError(ValueError):
    """A lexicon data file is missing or malformed."""


@dataclass(frozen=True)
class TermEntry:
    """Chinese forms and English forms of one concept; the first of each is the preferred name."""

    zh: tuple[str, ...]
    en: tuple[str, ...]
    kind: str  # "place", "direction", "subfield" or "term"
    generic: bool = False  # names a question's frame ("where", "which technologies"), not its topic


def _read(name: str) -> dict[str, Any]:
    try:
        text = resources.files("policybot.data").joinpath(f"lexicon/{name}").read_text("utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise LexiconError(f"cannot read lexicon file data/lexicon/{name}: {exc}; reinstall policybot") from exc
    if not isinstance(data, dict):
        raise LexiconError(f"data/lexicon/{name} must hold a JSON object")
    return data


@functools.lru_cache(maxsize=1)
def load_lexicon() -> tuple[TermEntry, ...]:
    """All entries of the bundled gazetteer, glossary and terms files."""
    entries: list[TermEntry] = []
    try:
        for p in _read("gazetteer.json")["places"]:
            entries.append(TermEntry((p["zh"], *p.get("aliases", ())), (p["en"], *p.get("variants", ())), "place"))
        for d in _read("glossary.json")["directions"]:
            entries.append(TermEntry((d["zh"],), (d["en"], *d.get("variants", ())), "direction"))
            for s in d.get("subfields", ()):
                entries.append(TermEntry((s["zh"],), (s["en"], *s.get("variants", ())), "subfield"))
        for t in _read("terms.json")["terms"]:
            entries.append(TermEntry(tuple(t["zh"]), tuple(t["en"]), "term", bool(t.get("generic", False))))
    except (KeyError, TypeError) as exc:
        raise LexiconError(f"a lexicon file is malformed: missing or wrong field {exc}") from exc
    return tuple(entries)


def english_label(zh: str) -> str:
    """'脑机接口' → '脑机接口 (brain-computer interfaces)' for glossary topics; other text unchanged."""
    for e in load_lexicon():
        if e.kind in ("direction", "subfield") and e.zh[0] == zh:
            return f"{zh} ({e.en[0]})"
    return zh


def domain_words() -> list[str]:
    """Chinese words that the tokenizer must keep whole (longest first)."""
    words = {z for e in load_lexicon() for z in e.zh if len(z) >= 2 and not z.isascii()}
    return sorted(words, key=len, reverse=True)


@functools.lru_cache(maxsize=1)
def _english_patterns() -> tuple[tuple[re.Pattern[str], TermEntry], ...]:
    pairs = []
    for e in load_lexicon():
        for en in e.en:
            # Word-bounded, case-insensitive, tolerant of hyphen/space variation.
            body = r"[\s\-]+".join(re.escape(w) for w in re.split(r"[\s\-]+", en.strip()))
            pairs.append((re.compile(rf"(?<![\w]){body}(?![\w])", re.I), e, len(en)))
    pairs.sort(key=lambda p: -p[2])
    return tuple((p, e) for p, e, _ in pairs)


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Every lower-cased word of every English form in the lexicon."""
    return frozenset(w for e in load_lexicon() for en in e.en for w in re.findall(r"[a-z0-9&]+", en.lower()))


def concepts_in(text: str) -> list[TermEntry]:
    """General-vocabulary entries (kind "term") that a question names, in English or Chinese."""
    found = []
    lowered = text.lower()
    for pattern, entry in _english_patterns():
        if entry.kind == "term" and entry not in found and pattern.search(text):
            found.append(entry)
    for e in load_lexicon():
        if e.kind == "term" and e not in found and any(z.lower() in lowered for z in e.zh):
            found.append(e)
    return found


def english_to_chinese(text: str, *, topics_only: bool = False) -> list[str]:
    """Chinese forms of the domain terms an English text mentions (longest matches first).

    With `topics_only`, generic frame words ("where", "technology") are left out.

    >>> english_to_chinese("Which districts host brain-computer interface work?")[:2]
    ['脑机接口', '依托']
    """
    found: list[str] = []
    taken = [False] * len(text)
    for pattern, entry in _english_patterns():
        for m in pattern.finditer(text):
            if any(taken[m.start() : m.end()]) or (topics_only and entry.generic):
                continue
            for i in range(m.start(), m.end()):
                taken[i] = True
            for z in entry.zh:
                if z not in found:
                    found.append(z)
    return found


def has_cjk(text: str) -> bool:
    """True if `text` contains Chinese characters.

    >>> has_cjk("脑机接口 BCI"), has_cjk("BCI")
    (True, False)
    """
    return bool(re.search(r"[\u3400-\u9fff\uf900-\ufaff]", text))

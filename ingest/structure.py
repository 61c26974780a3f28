"""Finding a cleaned document's structure: title, lead, headings, and topic sections.

Policy reports announce their own structure in the text ("在未来健康方向,重点发展
生物制造、脑机接口2个细分领域。"), and then open each sub-field's passage with its
name ("脑机接口依托东湖高新区…"). We read both: the declared lists from the text,
and the known directions and sub-fields from the glossary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policybot.ingest.glossary import Glossary
from policybot.ingest.records import Section
from policybot.ingest.sentences import split_sentences

MAX_HEADING_CHARS = 32
_FINAL_PUNCT = re.compile(r"[。！？!?；;，,、：:…．.]$")
_DIRECTION = re.compile(r"在([^\s,，。、]{2,12}?)方向")
_DECLARED = re.compile(r"重点发展(.+?)(?:\d+个|[一二三四五六七八九十]+个)?细分领域|重点发展([^,，。；;]{2,16})。")
_LIST_SPLIT = re.compile(r"[、,，]|和|及|与")
_LEAD_IN = re.compile(r"^(其中|另外|此外|同时)[,，]\s*")


@dataclass(frozen=True)
class Structure:
    title: str
    lead: str
    headings: tuple[tuple[int, int], ...]
    sections: tuple[Section, ...]


def _paragraphs(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def _is_heading(line: str) -> bool:
    return 0 < len(line) <= MAX_HEADING_CHARS and not _FINAL_PUNCT.search(line)


def declared_subfields(sentence: str) -> list[str]:
    """Sub-field names a sentence declares.

    >>> declared_subfields("在未来健康方向,重点发展生物制造、脑机接口2个细分领域。")
    ['生物制造', '脑机接口']
    >>> declared_subfields("在未来材料方向,重点发展未来新材料。")
    ['未来新材料']
    """
    m = _DECLARED.search(sentence)
    if not m:
        return []
    names = [n.strip() for n in _LIST_SPLIT.split(m.group(1) or m.group(2) or "")]
    return [n for n in names if 2 <= len(n) <= 12]


def find_structure(text: str, *, title_hint: str = "", glossary: Glossary | None = None) -> Structure:
    """Title, lead paragraph, heading lines and topic sections of a cleaned text.

    Every sentence gets a section path: (direction, sub-field) inside a topic, else
    the heading it sits under, else () for the opening part. Heading lines join the
    section beneath them, so a heading is never a passage of its own.

    >>> s = find_structure("标题\\n导语。\\n在未来健康方向,重点发展生物制造、脑机接口2个细分领域。"
    ...                    "生物制造依托甲区;脑机接口依托乙区。")
    >>> [(sec.path, s_text) for sec in s.sections for s_text in [None]][-1][0]
    ('未来健康', '脑机接口')
    """
    paras = _paragraphs(text)
    title = ""
    body_start = 0
    if paras and (len(text[paras[0][0] : paras[0][1]]) <= 80 and text[paras[0][1] - 1] not in "。."):
        title = text[paras[0][0] : paras[0][1]]
        body_start = 1
    title = title or title_hint
    lead = text[slice(*paras[body_start])] if len(paras) > body_start else ""

    directions = {t.zh for t in glossary.directions} if glossary else set()
    known_sub: dict[str, str] = {t.zh: t.parent or "" for t in glossary.subfields} if glossary else {}

    headings: list[tuple[int, int]] = []
    units: list[tuple[int, int, tuple[str, ...]]] = []  # sentence spans with their path
    heading = ""
    direction: str | None = None
    subfield: str | None = None
    pending_heading: int | None = None
    for i, (a, b) in enumerate(paras):
        line = text[a:b]
        if i >= body_start and _is_heading(line) and i + 1 < len(paras):
            headings.append((a, b))
            heading, direction, subfield = line, None, None
            if pending_heading is None:  # consecutive headings all stay with the text beneath them
                pending_heading = a
            continue
        declared_here: list[str] = []
        for sa, sb in split_sentences(text, start=a, end=b):
            sentence = text[sa:sb]
            dm = _DIRECTION.search(sentence)
            if dm and (not directions or dm.group(1) in directions or declared_subfields(sentence)):
                direction, subfield = dm.group(1), None
            # Only a sentence that names its direction declares that direction's sub-fields.
            declared = declared_subfields(sentence) if dm else []
            if declared and direction:
                for name in declared:
                    known_sub.setdefault(name, direction)
                declared_here = declared
                subfield = declared[0] if len(declared) == 1 else None
            else:
                opener = _LEAD_IN.sub("", sentence)
                for name in sorted(known_sub, key=len, reverse=True):
                    if opener.startswith(name) and (not direction or known_sub[name] in ("", direction)):
                        subfield = name
                        direction = direction or known_sub[name] or None
                        break
            if direction:
                path: tuple[str, ...] = (direction, subfield) if subfield else (direction,)
            elif heading:
                path = (heading,)
            else:
                path = ()
            start = pending_heading if pending_heading is not None else sa
            pending_heading = None
            units.append((start, sb, path))
        # A sub-field that spans one paragraph ends with it, unless it was just declared.
        if len(declared_here) != 1:
            subfield = None

    sections: list[Section] = []
    for a, b, path in units:
        if sections and sections[-1].path == path:
            sections[-1] = Section(path, sections[-1].start, b)
        else:
            sections.append(Section(path, a, b))
    return Structure(title, lead, tuple(headings), tuple(sections))

"""The glossary of directions and sub-fields (a data file), as typed records."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any


class GlossaryError(ValueError):
    """The glossary file is missing or malformed."""


@dataclass(frozen=True)
class Term:
    """A named topic: a direction or a sub-field, with its English names."""

    zh: str
    en: str
    variants: tuple[str, ...] = ()
    parent: str | None = None  # the direction's Chinese name, for a sub-field


@dataclass(frozen=True)
class Glossary:
    directions: tuple[Term, ...]
    subfields: tuple[Term, ...]

    def subfields_of(self, direction: str) -> tuple[Term, ...]:
        return tuple(t for t in self.subfields if t.parent == direction)

    def find(self, zh: str) -> Term | None:
        for t in (*self.directions, *self.subfields):
            if t.zh == zh:
                return t
        return None


def parse_glossary(data: dict[str, Any]) -> Glossary:
    """Build a Glossary from the JSON structure of `data/lexicon/glossary.json`."""
    try:
        directions: list[Term] = []
        subfields: list[Term] = []
        for d in data["directions"]:
            directions.append(Term(d["zh"], d["en"], tuple(d.get("variants", ()))))
            for s in d.get("subfields", ()):
                subfields.append(Term(s["zh"], s["en"], tuple(s.get("variants", ())), parent=d["zh"]))
    except (KeyError, TypeError) as exc:
        raise GlossaryError(f"glossary is malformed: missing or wrong field {exc}") from exc
    return Glossary(tuple(directions), tuple(subfields))


@functools.lru_cache(maxsize=4)
def load_glossary(path: Path | None = None) -> Glossary:
    """The bundled glossary, or one from `path`."""
    try:
        if path is None:
            text = resources.files("policybot.data").joinpath("lexicon/glossary.json").read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        return parse_glossary(json.loads(text))
    except (OSError, ValueError) as exc:
        if isinstance(exc, GlossaryError):
            raise
        raise GlossaryError(f"cannot read glossary {path or 'data/lexicon/glossary.json'}: {exc}") from exc

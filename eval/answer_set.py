"""Answer sets: JSON Lines of questions with the facts a correct answer must state.

One question per line::

    {"id": "bci-districts-en", "lang": "en", "question": "...", "answerable": true,
     "key_facts": [["洪山区", "Hongshan"]], "forbidden": ["江夏区", "Jiangxia"],
     "evidence": ["脑机接口依托东湖高新区、洪山区等区"], "category": "districts"}

`key_facts` is a list of facts, each a list of accepted spellings (any one counts);
`forbidden` lists strings a correct answer must not contain; `evidence` lists verbatim
quotes from the source. `category` is optional (it groups the metrics) and so is
`notes` (free text for the set's authors). Blank lines are ignored.

Parsing is split in two so that `check` can report everything at once: per-line
schema problems from `parse_answer_set`, then set-level problems (duplicates,
contradictions) from `item_problems`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

from policybot.eval.normalize import fold, mentions, squash

LANGS = ("en", "zh")
REQUIRED_FIELDS = ("id", "lang", "question", "answerable", "key_facts", "forbidden", "evidence")
OPTIONAL_FIELDS = ("category", "notes")
DEFAULT_CATEGORY = "uncategorized"
# Shorter quotes match too many passages to single out the one that supports an answer.
MIN_EVIDENCE_CHARS = 8
# Problems listed in an AnswerSetError's message; the rest stay on `.problems`.
_MAX_LISTED = 12


@dataclass(frozen=True)
class EvalItem:
    """One question of an answer set; `line` is its 1-based line in the file (0 if built in code)."""

    id: str
    lang: str
    question: str
    answerable: bool
    key_facts: tuple[tuple[str, ...], ...] = ()
    forbidden: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    category: str = DEFAULT_CATEGORY
    line: int = 0

    def to_dict(self) -> dict[str, object]:
        """The JSON Lines shape, so a set can be written back out."""
        return {
            "id": self.id,
            "lang": self.lang,
            "question": self.question,
            "answerable": self.answerable,
            "key_facts": [list(fact) for fact in self.key_facts],
            "forbidden": list(self.forbidden),
            "evidence": list(self.evidence),
            "category": self.category,
        }


@dataclass(frozen=True)
class Problem:
    """Something wrong with an answer set, tied to a line (0 = the file as a whole)."""

    line: int
    message: str
    item_id: str | None = None
    source: str = ""

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.source else f"line {self.line}"
        who = f" [{self.item_id}]" if self.item_id else ""
        return f"{where}:{who} {self.message}"


class AnswerSetError(ValueError):
    """An answer set that cannot be used; `.problems` lists every problem found."""

    def __init__(self, problems: Sequence[Problem], *, source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        listed = "\n".join(f"  {p}" for p in self.problems[:_MAX_LISTED])
        more = len(self.problems) - _MAX_LISTED
        tail = f"\n  ... and {more} more" if more > 0 else ""
        name = source or "the answer set"
        super().__init__(f"{name} has {len(self.problems)} problem(s); fix these lines and run again:\n{listed}{tail}")


def decode_answer_set(data: bytes, *, source: str = "") -> tuple[list[tuple[int, str]], list[Problem]]:
    """Split raw bytes into (line number, text) pairs, reporting encoding problems.

    A UTF-8 byte-order mark is reported and skipped so the other problems still show;
    UTF-16 stops decoding; a line that is not UTF-8 is reported and left out.

    >>> decode_answer_set(b'{"a": 1}\\n\\n{"b": 2}\\n')
    ([(1, '{"a": 1}'), (3, '{"b": 2}')], [])
    >>> lines, problems = decode_answer_set(b"\\xef\\xbb\\xbf{}")
    >>> lines, "byte-order mark" in problems[0].message
    ([(1, '{}')], True)
    """
    problems: list[Problem] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        msg = "the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"
        return [], [Problem(1, msg, source=source)]
    if data.startswith(b"\xef\xbb\xbf"):
        msg = "the file starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without BOM"
        problems.append(Problem(1, msg, source=source))
        data = data[3:]
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem(number, _not_utf8(raw, exc), source=source))
            continue
        text = text.rstrip("\r")
        if text.strip():
            lines.append((number, text))
    return lines, problems


def _not_utf8(raw: bytes, exc: UnicodeDecodeError) -> str:
    """Describe a line that is not UTF-8, naming GBK when that is what it looks like."""
    msg = f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1})"
    try:
        raw.decode("gb18030")
    except UnicodeDecodeError:
        return f"{msg}; save the file as UTF-8"
    return f"{msg}; it looks like GBK/GB18030, save the file as UTF-8"


def parse_answer_set(data: bytes | str, *, source: str = "") -> tuple[list[EvalItem], list[Problem]]:
    """Parse JSON Lines into items, collecting every encoding and schema problem.

    Items whose line has a schema problem are left out; set-level checks are
    `item_problems`'s job.

    >>> items, problems = parse_answer_set('{"id": "q1", "lang": "zh", "question": "?", '
    ...     '"answerable": false, "key_facts": [], "forbidden": [], "evidence": []}')
    >>> items[0].id, items[0].category, problems
    ('q1', 'uncategorized', [])
    """
    if isinstance(data, str):
        problems: list[Problem] = []
        if data.startswith("\ufeff"):
            msg = "the text starts with a byte-order mark (BOM); save the file as UTF-8 without BOM"
            problems.append(Problem(1, msg, source=source))
            data = data[1:]
        lines = [(n, t.rstrip("\r")) for n, t in enumerate(data.split("\n"), 1) if t.strip()]
    else:
        lines, problems = decode_answer_set(data, source=source)
    items: list[EvalItem] = []
    for number, text in lines:
        item, line_problems = _parse_line(text, number, source)
        problems.extend(line_problems)
        if item is not None:
            items.append(item)
    return items, problems


def _reject_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"field {key!r} appears twice")
        seen[key] = value
    return seen


def _parse_line(text: str, line: int, source: str) -> tuple[EvalItem | None, list[Problem]]:
    """Turn one line into an item, or into the problems that stop it being one."""
    try:
        obj = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        return None, [Problem(line, f"invalid JSON: {exc.msg} (column {exc.colno})", None, source)]
    except ValueError as exc:
        return None, [Problem(line, f"invalid JSON: {exc}", None, source)]
    if not isinstance(obj, dict):
        return None, [Problem(line, "expected a JSON object {...} on this line", None, source)]
    item_id = obj.get("id") if isinstance(obj.get("id"), str) else None
    found: list[str] = []

    def bad(message: str) -> None:
        found.append(message)

    missing = [name for name in REQUIRED_FIELDS if name not in obj]
    if missing:
        bad(f"missing field(s): {', '.join(missing)}")
    unknown = sorted(set(obj) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        known = ", ".join(REQUIRED_FIELDS + OPTIONAL_FIELDS)
        bad(f"unknown field(s): {', '.join(unknown)} (known fields: {known})")
    for name in ("id", "lang", "question"):
        if name in obj and not isinstance(obj[name], str):
            bad(f"{name!r} must be a string, not {type(obj[name]).__name__}")
    if "category" in obj and not (isinstance(obj["category"], str) and obj["category"].strip()):
        bad("'category' must be a non-empty string")
    if "answerable" in obj and not isinstance(obj["answerable"], bool):
        bad("'answerable' must be true or false (a JSON boolean, not a string or number)")
    for name in ("forbidden", "evidence"):
        if name in obj and not _is_string_list(obj[name]):
            bad(f"{name!r} must be a list of non-empty strings")
    facts = obj.get("key_facts")
    if "key_facts" in obj:
        if not isinstance(facts, list):
            bad("'key_facts' must be a list of facts, each a list of spellings")
        else:
            for i, fact in enumerate(facts):
                if not (_is_string_list(fact) and fact):
                    bad(f'key_facts[{i}] must be a non-empty list of accepted spellings, e.g. ["洪山区", "Hongshan"]')
    if found:
        return None, [Problem(line, msg, item_id, source) for msg in found]
    item = EvalItem(
        id=obj["id"],
        lang=obj["lang"],
        question=obj["question"],
        answerable=obj["answerable"],
        key_facts=tuple(tuple(fact) for fact in obj["key_facts"]),
        forbidden=tuple(obj["forbidden"]),
        evidence=tuple(obj["evidence"]),
        category=obj.get("category", DEFAULT_CATEGORY).strip(),
        line=line,
    )
    return item, []


def _is_string_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(s, str) and s.strip() for s in value)


def item_problems(items: Sequence[EvalItem], *, source: str = "") -> list[Problem]:
    """Set-level problems: bad values, duplicates, and answers the set contradicts itself on.

    >>> item = EvalItem(id="q1", lang="fr", question="Où?", answerable=False)
    >>> [p.message for p in item_problems([item])]
    ["unknown lang 'fr'; use 'en' or 'zh'"]
    """
    problems: list[Problem] = []
    first_id: dict[str, int] = {}
    first_question: dict[tuple[str, str], int] = {}
    for item in items:

        def bad(message: str, item: EvalItem = item) -> None:
            problems.append(Problem(item.line, message, item.id or None, source))

        if not item.id.strip():
            bad("empty id; give every question a unique id")
        elif item.id in first_id:
            bad(f"duplicate id {item.id!r} (first used on line {first_id[item.id]})")
        else:
            first_id[item.id] = item.line
        if item.lang not in LANGS:
            bad(f"unknown lang {item.lang!r}; use 'en' or 'zh'")
        question = fold(item.question)
        if not question:
            bad("empty question")
        elif (item.lang, question) in first_question:
            bad(f"same question as line {first_question[(item.lang, question)]}")
        else:
            first_question[(item.lang, question)] = item.line
        problems.extend(Problem(item.line, msg, item.id or None, source) for msg in _consistency(item))
    return problems


def _consistency(item: EvalItem) -> list[str]:
    """What an item's own fields contradict."""
    found: list[str] = []
    if item.answerable:
        if not item.key_facts:
            found.append("answerable question without key_facts; list the facts an answer must state")
        if not item.evidence:
            found.append("answerable question without evidence; quote the source sentence(s)")
    else:
        if item.key_facts:
            found.append("unanswerable question with key_facts; empty them or set answerable: true")
        if item.evidence:
            found.append("unanswerable question with evidence; empty it or set answerable: true")
    for i, quote in enumerate(item.evidence):
        if len(squash(quote)) < MIN_EVIDENCE_CHARS:
            found.append(
                f"evidence[{i}] {quote!r} is shorter than {MIN_EVIDENCE_CHARS} characters; "
                "quote enough of the sentence to single out the passage"
            )
    for banned in item.forbidden:
        for i, fact in enumerate(item.key_facts):
            clash = next((s for s in fact if mentions(s, banned)), None)
            if clash is not None:
                found.append(
                    f"forbidden {banned!r} occurs in accepted spelling {clash!r} of key_facts[{i}], "
                    "so a correct answer would fail"
                )
    return found


def load_answer_set(path: str | os.PathLike[str]) -> list[EvalItem]:
    """Read and validate an answer set file.

    Raises `AnswerSetError` listing every problem (with line numbers) when the file
    is missing, unreadable, not UTF-8, malformed, empty, or contradicts itself.
    Checking the evidence against the documents is `check_answer_set`'s job.
    """
    source = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        msg = f"cannot read the answer set ({exc.strerror or exc}); check the path"
        raise AnswerSetError([Problem(0, msg, source=source)], source=source) from exc
    items, problems = parse_answer_set(data, source=source)
    problems += item_problems(items, source=source)
    if not items and not problems:
        problems.append(Problem(0, "the answer set has no questions", source=source))
    if problems:
        raise AnswerSetError(sorted(problems, key=lambda p: p.line), source=source)
    return items

"""Validating an answer set against the documents it was written from.

The CLI prints the problems and exits non-zero when there are any, so an answer set
with a typo in a quote never reaches CI as a silently unreachable question.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from policybot.eval.answer_set import (
    EvalItem,
    Problem,
    item_problems,
    parse_answer_set,
)
from policybot.eval.normalize import longest_common_run, squash

# How much of the closest match a problem message shows.
_SHOWN_CHARS = 30


def check_answer_set(
    path_or_items: str | os.PathLike[str] | Sequence[EvalItem],
    documents: Mapping[str, str] | str,
) -> list[Problem]:
    """Every problem of an answer set, sorted by line; an empty list means it is fine.

    `path_or_items` is a path to a JSON Lines file or already-loaded items. `documents`
    maps doc_id to the text (cleaned or raw: quotes are compared after NFKC and
    whitespace removal, so both work), or is a single document's text. Finds encoding
    and schema problems, duplicate ids, answerable questions without key facts or
    evidence, unanswerable ones with them, and evidence quoted from no document.

    >>> item = EvalItem(id="q1", lang="zh", question="哪些区?", answerable=True,
    ...                 key_facts=(("洪山区",),), evidence=("脑机接口依托东湖高新区、洪山区等区",))
    >>> check_answer_set([item], "脑机接口依托东湖高新区、洪山区等区,开展研究。")
    []
    """
    texts = {"document": documents} if isinstance(documents, str) else dict(documents)
    if not texts:
        raise ValueError("no documents to check the evidence against; pass the corpus text")
    if isinstance(path_or_items, (str, os.PathLike)):
        source = os.fspath(path_or_items)
        try:
            with open(path_or_items, "rb") as f:
                data = f.read()
        except OSError as exc:
            return [Problem(0, f"cannot read the answer set ({exc.strerror or exc}); check the path", None, source)]
        items, problems = parse_answer_set(data, source=source)
        if not items and not problems:
            problems.append(Problem(0, "the answer set has no questions", None, source))
    else:
        source, items, problems = "", list(path_or_items), []
    problems += item_problems(items, source=source)
    problems += evidence_problems(items, texts, source=source)
    return sorted(problems, key=lambda p: p.line)


def evidence_problems(items: Sequence[EvalItem], documents: Mapping[str, str], *, source: str = "") -> list[Problem]:
    """Evidence quotes that occur in none of `documents` (after NFKC and whitespace removal).

    >>> item = EvalItem(id="q1", lang="en", question="Where?", answerable=True,
    ...                 key_facts=(("Hongshan",),), evidence=("脑机接口依托洪山区",))
    >>> [problem] = evidence_problems([item], {"d": "脑机接口依托东湖高新区、洪山区等区"})
    >>> problem.message.split("; ")[-1]
    "the longest part found is '脑机接口依托' (6 of 9 characters)"
    """
    squashed = [squash(text) for text in documents.values()]
    problems: list[Problem] = []
    for item in items:
        for i, quote in enumerate(item.evidence):
            needle = squash(quote)
            if not needle or any(needle in text for text in squashed):
                continue
            problems.append(Problem(item.line, _not_found(i, needle, squashed), item.id or None, source))
    return problems


def _not_found(index: int, needle: str, texts: Sequence[str]) -> str:
    """Say a quote is missing and show how much of it the closest document holds."""
    best_len, best_text = max(((longest_common_run(needle, t), t) for t in texts), key=lambda p: p[0])
    hint = ""
    if best_len:
        # Find the run itself to show it: the first window of best_len that occurs.
        run = next(needle[i : i + best_len] for i in range(len(needle)) if needle[i : i + best_len] in best_text)
        shown = run if len(run) <= _SHOWN_CHARS else run[:_SHOWN_CHARS] + "…"
        hint = f"; the longest part found is {shown!r} ({best_len} of {len(needle)} characters)"
    return (
        f"evidence[{index}] occurs in no document (compared after NFKC and whitespace removal); "
        f"copy the quote verbatim from the source{hint}"
    )

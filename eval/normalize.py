"""Text comparison rules shared by the answer-set checker and the metrics.

Two normal forms, for two jobs:

- `squash` is for evidence: NFKC, then every whitespace character removed. The
  source mixes full-width and ASCII punctuation and wraps lines anywhere, so a
  quote copied from it matches whichever form the cleaned text or a chunk uses.
- `fold` is for answers: NFKC, case-folded, typographic quotes and dashes made
  ASCII, whitespace collapsed and dropped next to CJK text. `mentions` then finds a
  spelling in an answer without letting "10" match inside "100" or "AI" inside "said".
"""

from __future__ import annotations

import math
import re
import unicodedata

# Typographic variants an LLM or a translator produces for the same ASCII mark.
_TYPOGRAPHIC = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
    }
)
_WHITESPACE = re.compile(r"\s+")
# A space between a non-ASCII character and anything else carries no meaning:
# "1000 亿元" and "1000亿元" are the same number, "Zone (东湖" and "Zone(东湖" the same name.
_SPACE_NEAR_WIDE = re.compile(r"(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])")
_ASCII_ALNUM = re.compile(r"[0-9a-z]")

# The share of a quote (or the absolute length) a passage must contain as one
# unbroken run to count as holding that quote; see `covers`.
MIN_QUOTE_FRACTION = 0.6
MIN_QUOTE_CHARS = 40


def squash(text: str) -> str:
    """NFKC-normalize and remove all whitespace: the form evidence is compared in.

    >>> squash("突破1000 亿元，打造\\n5个以上")
    '突破1000亿元,打造5个以上'
    """
    return "".join(unicodedata.normalize("NFKC", text).split())


def fold(text: str) -> str:
    """Normalize text for case-insensitive matching of spellings in an answer.

    >>> fold("East Lake High‑Tech  Zone（东湖高新区）")
    'east lake high-tech zone(东湖高新区)'
    >>> fold("突破 1000 亿元")
    '突破1000亿元'
    >>> fold("2—3个 千亿级")
    '2-3个千亿级'
    """
    text = unicodedata.normalize("NFKC", text).casefold().translate(_TYPOGRAPHIC)
    text = _WHITESPACE.sub(" ", text).strip()
    return _SPACE_NEAR_WIDE.sub("", text)


def mentions(text: str, spelling: str) -> bool:
    """Whether `text` contains `spelling`, both folded, at a sensible boundary.

    A spelling that starts with an ASCII letter or digit must not continue a word
    or number ("AI" is not in "said"); one that ends with a digit must not run on
    into more digits ("10" is not in "100"). A spelling ending in a letter may run
    on, so stems match inflections ("robot" finds "robots", "financ" finds "finance").

    >>> mentions("打造5个以上、力争10个以上", "10个以上")
    True
    >>> mentions("over 100 clusters", "10")
    False
    >>> mentions("Humanoid robots", "robot")
    True
    >>> mentions("he said so", "AI")
    False
    >>> mentions("东湖高新区、洪山区", "洪山区")
    True
    """
    text, spelling = fold(text), fold(spelling)
    if not spelling:
        return False
    check_left = bool(_ASCII_ALNUM.match(spelling[0]))
    check_right = spelling[-1].isdigit() and spelling[-1].isascii()
    start = text.find(spelling)
    while start != -1:
        end = start + len(spelling)
        left_ok = not (check_left and start > 0 and _ASCII_ALNUM.match(text[start - 1]))
        right_ok = not (check_right and end < len(text) and text[end].isdigit())
        if left_ok and right_ok:
            return True
        start = text.find(spelling, start + 1)
    return False


def has_common_run(a: str, b: str, length: int) -> bool:
    """Whether `a` and `b` share a substring of `length` characters.

    >>> has_common_run("abcdef", "xxcdexx", 3)
    True
    >>> has_common_run("abcdef", "xxcdexx", 4)
    False
    """
    if length <= 0:
        return True
    if length > min(len(a), len(b)):
        return False
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return any(short[i : i + length] in long_ for i in range(len(short) - length + 1))


def longest_common_run(a: str, b: str) -> int:
    """Length of the longest common substring of `a` and `b`.

    Binary search over the length: a common run of n characters implies one of
    n - 1, and each probe is a few C-speed `in` tests, far cheaper than the
    quadratic table for passages of several hundred characters.

    >>> longest_common_run("未来网络依托东湖高新区", "量子科技依托东湖高新区、武汉")
    7
    >>> longest_common_run("abc", "xyz")
    0
    """
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if has_common_run(a, b, mid):
            low = mid
        else:
            high = mid - 1
    return low


def required_overlap(quote_len: int) -> int:
    """Characters of a quote a passage must hold in one run to count as holding it.

    That is 60% of the quote, rounded up, or 40 characters, whichever is fewer:
    chunk boundaries may split a quote, and a passage holding most of it (or a long
    stretch of a long one) still supports the answer.

    >>> required_overlap(30), required_overlap(100), required_overlap(0)
    (18, 40, 0)
    """
    return min(math.ceil(MIN_QUOTE_FRACTION * quote_len), MIN_QUOTE_CHARS)


def covers(passage: str, quote: str) -> bool:
    """Whether `passage` holds the evidence `quote` (both squashed first).

    True when the passage contains the whole quote, or shares with it an unbroken
    run of `required_overlap(len(quote))` characters. An empty quote is held by
    nothing.

    >>> covers("脑机接口依托东湖高新区、洪山区等区,开展非侵入式", "脑机接口依托东湖高新区、洪山区等区")
    True
    >>> covers("……信息编解码等领域突破。脑机接口依托东湖高新区、洪山", "脑机接口依托东湖高新区、洪山区等区")
    True
    >>> covers("生物制造依托东湖高新区、东西湖区", "脑机接口依托东湖高新区、洪山区等区")
    False
    """
    passage, quote = squash(passage), squash(quote)
    if not quote:
        return False
    if quote in passage:
        return True
    return has_common_run(passage, quote, required_overlap(len(quote)))

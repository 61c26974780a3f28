"""The on-disk index: one versioned folder, written atomically, verified on load. No pickle.

    manifest.json     format version, model, chunking, document hashes, counts, file hashes
    documents.jsonl   cleaned documents (text, sections, offset map back to the source)
    chunks.jsonl      chunk records, row i = FAISS id i = BM25 doc i
    vectors.npy       float32 embeddings, the source of truth the FAISS file is built from
    dense.faiss       the FAISS index
    bm25/             bm25s arrays (.npy, no pickle) and vocabulary (JSON)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from policybot.index.bm25 import BM25Index
from policybot.index.dense import load_faiss, save_faiss
from policybot.ingest.records import Chunk, Document, DroppedLine, Section

FORMAT_NAME = "policybot-index"
FORMAT_VERSION = 1


class IndexLoadError(Exception):
    """An index folder cannot be used; the message names the problem and the command that fixes it."""


class IndexNotFoundError(IndexLoadError):
    pass


class IndexCorruptError(IndexLoadError):
    pass


class IndexMismatchError(IndexLoadError):
    pass


def rebuild_hint(folder: Path, model: str | None = None) -> str:
    flag = f" --model {model}" if model else ""
    return f"rebuild it with: policybot index --out {folder}{flag}"


@dataclass(frozen=True)
class Manifest:
    model_id: str
    dim: int
    chunking: dict[str, Any]
    faiss_factory: str
    documents: dict[str, str]  # doc_id -> sha256 of its source text
    counts: dict[str, int]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    libraries: dict[str, str] = field(default_factory=dict)
    created: str = ""
    format_version: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "format_version": self.format_version,
            "created": self.created,
            "model": {"id": self.model_id, "dim": self.dim},
            "chunking": self.chunking,
            "faiss": {"factory": self.faiss_factory, "metric": "inner_product"},
            "documents": self.documents,
            "counts": self.counts,
            "files": self.files,
            "libraries": self.libraries,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Manifest:
        return cls(
            model_id=str(d["model"]["id"]),
            dim=int(d["model"]["dim"]),
            chunking=dict(d["chunking"]),
            faiss_factory=str(d["faiss"]["factory"]),
            documents={str(k): str(v) for k, v in d["documents"].items()},
            counts={str(k): int(v) for k, v in d["counts"].items()},
            files=dict(d.get("files", {})),
            libraries=dict(d.get("libraries", {})),
            created=str(d.get("created", "")),
            format_version=int(d["format_version"]),
        )


@dataclass
class IndexData:
    """Everything an index holds, in memory. Row i of chunks/vectors is FAISS id i."""

    manifest: Manifest
    documents: list[Document]
    chunks: list[Chunk]
    vectors: np.ndarray
    faiss_index: Any
    bm25: BM25Index

    def document(self, doc_id: str) -> Document:
        for d in self.documents:
            if d.doc_id == doc_id:
                return d
        raise KeyError(doc_id)


# ------------------------------------------------------------------ documents as JSON
def _offset_runs(offsets: tuple[int, ...]) -> list[list[int]]:
    """Compress an offset map into [clean_start, raw_start, length] runs of consecutive offsets.

    >>> _offset_runs((0, 1, 2, 5, 6, 7))
    [[0, 0, 3], [3, 5, 3]]
    """
    runs: list[list[int]] = []
    for i, off in enumerate(offsets):
        if runs and runs[-1][1] + runs[-1][2] == off and runs[-1][0] + runs[-1][2] == i:
            runs[-1][2] += 1
        else:
            runs.append([i, off, 1])
    return runs


def _expand_runs(runs: list[list[int]]) -> tuple[int, ...]:
    out: list[int] = []
    for _, raw_start, length in runs:
        out.extend(range(raw_start, raw_start + length))
    return tuple(out)


def document_to_json(doc: Document) -> dict[str, Any]:
    return {
        "doc_id": doc.doc_id,
        "path": doc.path,
        "title": doc.title,
        "sha256": doc.sha256,
        "encoding": doc.encoding,
        "lead": doc.lead,
        "text": doc.text,
        "offset_runs": _offset_runs(doc.offsets),
        "sections": [[list(s.path), s.start, s.end] for s in doc.sections],
        "headings": [list(h) for h in doc.headings],
        "dropped": [[d.reason, d.text] for d in doc.dropped_lines],
        "metadata": doc.metadata,
    }


def document_from_json(d: dict[str, Any]) -> Document:
    return Document(
        doc_id=d["doc_id"],
        path=d["path"],
        title=d["title"],
        text=d["text"],
        raw="",
        offsets=_expand_runs(d["offset_runs"]),
        sha256=d["sha256"],
        encoding=d["encoding"],
        lead=d.get("lead", ""),
        sections=tuple(Section(tuple(p), int(a), int(b)) for p, a, b in d["sections"]),
        headings=tuple((int(a), int(b)) for a, b in d.get("headings", [])),
        dropped_lines=tuple(DroppedLine(text, reason) for reason, text in d.get("dropped", [])),
        metadata={str(k): str(v) for k, v in d.get("metadata", {}).items()},
    )


# ------------------------------------------------------------------ writing
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("policybot", "faiss-cpu", "bm25s", "jieba", "sentence-transformers", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_index(folder: Path, data: IndexData) -> Manifest:
    """Write `data` into a temporary folder beside `folder`, then swap it in.

    Until the final rename, the previous index at `folder` stays complete and loadable;
    a build killed halfway leaves only a `.tmp-` folder behind, which the next write removes.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    for stale in folder.parent.glob(f".{folder.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = folder.parent / f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        with (tmp / "documents.jsonl").open("w", encoding="utf-8") as f:
            for doc in data.documents:
                f.write(json.dumps(document_to_json(doc), ensure_ascii=False) + "\n")
        with (tmp / "chunks.jsonl").open("w", encoding="utf-8") as f:
            for chunk in data.chunks:
                f.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")
        np.save(tmp / "vectors.npy", np.ascontiguousarray(data.vectors, dtype=np.float32), allow_pickle=False)
        save_faiss(data.faiss_index, tmp / "dense.faiss")
        (tmp / "bm25").mkdir()
        data.bm25.save(tmp / "bm25")
        files = {}
        for p in sorted(tmp.rglob("*")):
            if p.is_file():
                files[p.relative_to(tmp).as_posix()] = {"sha256": _sha256(p), "bytes": p.stat().st_size}
        m = data.manifest
        manifest = Manifest(
            model_id=m.model_id,
            dim=m.dim,
            chunking=m.chunking,
            faiss_factory=m.faiss_factory,
            documents={d.doc_id: d.sha256 for d in data.documents},
            counts={"documents": len(data.documents), "chunks": len(data.chunks)},
            files=files,
            libraries=_library_versions(),
            created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )
        (tmp / "manifest.json").write_text(json.dumps(manifest.to_json(), ensure_ascii=False, indent=2), "utf-8")
        for p in tmp.rglob("*"):
            if p.is_file():
                with p.open("rb") as fh:
                    os.fsync(fh.fileno())
        _fsync_dir(tmp)
        _swap_in(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _swap_in(tmp: Path, folder: Path) -> None:
    if not folder.exists():
        os.replace(tmp, folder)
    else:
        old = folder.parent / f".{folder.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(folder.parent)


def _recover(folder: Path) -> None:
    """Finish a swap that was interrupted between its two renames."""
    if folder.exists():
        return
    olds = sorted(folder.parent.glob(f".{folder.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if olds:
        os.replace(olds[-1], folder)


# ------------------------------------------------------------------ loading
def read_manifest(folder: Path) -> Manifest:
    folder = Path(folder)
    _recover(folder)
    path = folder / "manifest.json"
    if not folder.is_dir() or not path.is_file():
        raise IndexNotFoundError(f"no index at {folder} (manifest.json is missing); build one with: "
                                 f"policybot index --out {folder}")
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path} is unreadable or not JSON ({exc}); {rebuild_hint(folder)}") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT_NAME:
        raise IndexCorruptError(f"{path} is not a policybot index manifest; {rebuild_hint(folder)}")
    version = raw.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise IndexMismatchError(
            f"{path} has index format version {version}, newer than this policybot reads ({FORMAT_VERSION}); "
            f"upgrade policybot, or {rebuild_hint(folder)}"
        )
    try:
        return Manifest.from_json(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexCorruptError(f"{path} is missing field {exc}; {rebuild_hint(folder)}") from exc


def verify_files(folder: Path, manifest: Manifest) -> None:
    """Check every file the manifest lists: present, same size, same SHA-256."""
    for name, info in manifest.files.items():
        p = folder / name
        if not p.is_file():
            raise IndexCorruptError(f"index file {p} is missing; {rebuild_hint(folder)}")
        if p.stat().st_size != int(info["bytes"]):
            raise IndexCorruptError(
                f"index file {p} has {p.stat().st_size} bytes, the manifest says {info['bytes']} "
                f"(truncated or modified); {rebuild_hint(folder)}"
            )
        if _sha256(p) != info["sha256"]:
            raise IndexCorruptError(f"index file {p} does not match its checksum (corrupted); {rebuild_hint(folder)}")


def _read_jsonl(path: Path, folder: Path) -> list[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index file {path} is unreadable ({exc}); {rebuild_hint(folder)}") from exc


def load_index(folder: Path, *, verify: bool = True) -> IndexData:
    """Load and check an index folder; raise IndexLoadError saying how to fix any problem."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if verify:
        verify_files(folder, manifest)
    try:
        chunks = [Chunk.from_dict(d) for d in _read_jsonl(folder / "chunks.jsonl", folder)]
        documents = [document_from_json(d) for d in _read_jsonl(folder / "documents.jsonl", folder)]
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexCorruptError(f"a record in {folder} is malformed ({exc}); {rebuild_hint(folder)}") from exc
    n = len(chunks)
    if n != manifest.counts.get("chunks") or len(documents) != manifest.counts.get("documents"):
        raise IndexCorruptError(
            f"{folder} holds {n} chunks and {len(documents)} documents, the manifest says "
            f"{manifest.counts}; {rebuild_hint(folder)}"
        )
    if {d.doc_id: d.sha256 for d in documents} != manifest.documents:
        raise IndexCorruptError(f"document hashes in {folder} do not match the manifest; {rebuild_hint(folder)}")
    try:
        vectors = np.load(folder / "vectors.npy", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{folder / 'vectors.npy'} is unreadable ({exc}); {rebuild_hint(folder)}") from exc
    if vectors.shape != (n, manifest.dim) or vectors.dtype != np.float32:
        raise IndexCorruptError(
            f"{folder / 'vectors.npy'} has shape {vectors.shape}, expected ({n}, {manifest.dim}); "
            f"{rebuild_hint(folder)}"
        )
    try:
        faiss_index = load_faiss(folder / "dense.faiss")
    except RuntimeError as exc:
        raise IndexCorruptError(f"{folder / 'dense.faiss'} is unreadable; {rebuild_hint(folder)}") from exc
    if faiss_index.ntotal != n or faiss_index.d != manifest.dim:
        raise IndexCorruptError(
            f"{folder / 'dense.faiss'} holds {faiss_index.ntotal} vectors of dimension {faiss_index.d}, "
            f"expected {n} of {manifest.dim}; {rebuild_hint(folder)}"
        )
    try:
        bm25 = BM25Index.load(folder / "bm25")
    except (OSError, ValueError, KeyError) as exc:
        raise IndexCorruptError(f"{folder / 'bm25'} is unreadable ({exc}); {rebuild_hint(folder)}") from exc
    if bm25.num_docs != n:
        raise IndexCorruptError(
            f"{folder / 'bm25'} indexes {bm25.num_docs} chunks, expected {n}; {rebuild_hint(folder)}"
        )
    return IndexData(manifest, documents, chunks, vectors, faiss_index, bm25)

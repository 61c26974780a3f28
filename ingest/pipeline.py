"""From paths to cleaned, structured, chunked documents."""

from __future__ import annotations

import hashlib
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from policybot.ingest.chunker import ChunkBudget, Counter, chunk_sections
from policybot.ingest.clean import clean_text
from policybot.ingest.glossary import load_glossary
from policybot.ingest.loaders import SUPPORTED_SUFFIXES, LoadedText, LoadError, load_file
from policybot.ingest.records import Chunk, Document
from policybot.ingest.structure import find_structure
from policybot.ingest.tokens import token_counter

IGNORE_FILE = ".policybotignore"


@dataclass(frozen=True)
class IngestOptions:
    """Chunking parameters; they are recorded in the index manifest."""

    chunk_tokens: int = 160
    overlap: int = 32
    encoding: str = "cl100k_base"
    model_max_tokens: int | None = None
    model_count: Counter | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FileFailure:
    path: str
    reason: str


@dataclass(frozen=True)
class IngestResult:
    documents: tuple[Document, ...]
    chunks: tuple[Chunk, ...]
    failures: tuple[FileFailure, ...]
    skipped: tuple[str, ...] = ()

    def summary(self) -> dict[str, object]:
        """Counts and token statistics, as shown by `policybot ingest`."""
        tokens = [c.tokens for c in self.chunks]
        return {
            "documents": len(self.documents),
            "chunks": len(self.chunks),
            "failed": len(self.failures),
            "skipped": len(self.skipped),
            "tokens": {
                "total": sum(tokens),
                "min": min(tokens, default=0),
                "max": max(tokens, default=0),
                "mean": round(statistics.fmean(tokens), 1) if tokens else 0,
                "median": statistics.median(tokens) if tokens else 0,
            },
            "boilerplate_lines_dropped": sum(len(d.dropped_lines) for d in self.documents),
            "dropped": {
                d.doc_id: [{"text": x.text, "reason": x.reason} for x in d.dropped_lines] for d in self.documents
            },
            "failures": [{"path": f.path, "reason": f.reason} for f in self.failures],
        }


def default_corpus_dir() -> Path:
    """The bundled corpus (Wuhan's future-industries plan)."""
    return Path(str(resources.files("policybot.data").joinpath("corpus")))


def _ignored_patterns(folder: Path) -> list[str]:
    f = folder / IGNORE_FILE
    if not f.is_file():
        return []
    lines = f.read_text("utf-8", errors="replace").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[FileFailure], list[str]]:
    """Expand folders recursively into supported files.

    Inside folders, hidden files, unsupported types, `.json` sidecars and names
    matching `.policybotignore` patterns are skipped; a file named explicitly is
    always tried, so an unsupported one gets a clear failure.
    """
    files: list[Path] = []
    failures: list[FileFailure] = []
    skipped: list[str] = []
    for path in paths:
        if path.is_dir():
            patterns = _ignored_patterns(path)
            for p in sorted(path.rglob("*")):
                rel = p.relative_to(path)
                if not p.is_file() or any(part.startswith(".") for part in rel.parts):
                    continue
                if any(rel.match(pat) for pat in patterns) or p.suffix.lower() not in SUPPORTED_SUFFIXES:
                    skipped.append(str(p))
                    continue
                files.append(p)
        elif path.is_file():
            files.append(path)
        else:
            failures.append(FileFailure(str(path), "no such file or folder"))
    return files, failures, skipped


def make_doc_id(path: Path, taken: dict[str, str]) -> str:
    """A readable id from the file name; `taken` maps ids in use to their file paths.

    The same path always gets the same id; another file with the same name gets a
    short hash of its path appended.

    >>> make_doc_id(Path("/x/Wuhan Plan 2024.txt"), {})
    'wuhan-plan-2024'
    """
    base = re.sub(r"[^\w\u4e00-\u9fff]+", "-", path.stem.lower()).strip("-") or "document"
    where = str(path.resolve())
    if taken.get(base, where) == where:
        return base
    return f"{base}-{hashlib.sha1(where.encode()).hexdigest()[:6]}"


def build_document(loaded: LoadedText, *, doc_id: str) -> Document:
    """Clean a loaded file and find its structure."""
    cleaned = clean_text(loaded.text)
    if not cleaned.text.strip():
        raise LoadError("no text left after removing page boilerplate")
    structure = find_structure(cleaned.text, title_hint=loaded.title, glossary=load_glossary())
    return Document(
        doc_id=doc_id,
        path=str(loaded.path.resolve()),
        title=loaded.title or structure.title,
        text=cleaned.text,
        raw=loaded.text,
        offsets=cleaned.offsets,
        sha256=hashlib.sha256(loaded.text.encode("utf-8")).hexdigest(),
        encoding=loaded.encoding,
        lead=structure.lead,
        sections=structure.sections,
        headings=structure.headings,
        dropped_lines=cleaned.dropped,
        metadata=dict(loaded.metadata),
    )


def chunk_document(doc: Document, options: IngestOptions) -> list[Chunk]:
    """Split one document into chunks under the options' budgets."""
    budget = ChunkBudget(
        max_tokens=options.chunk_tokens,
        count=token_counter(options.encoding),
        overlap_tokens=options.overlap,
        model_max_tokens=options.model_max_tokens,
        model_count=options.model_count,
    )
    glued = [a for a, _ in doc.headings]
    first_line = doc.text.split("\n", 1)[0]
    if first_line and first_line == doc.title:
        glued.append(0)  # the title line is context for the lead, like a heading
    return chunk_sections(doc.text, doc.sections, budget, doc_id=doc.doc_id, glued=glued)


def ingest_paths(
    paths: Sequence[Path],
    *,
    options: IngestOptions | None = None,
    progress: bool = False,
    known_ids: dict[str, str] | None = None,
) -> IngestResult:
    """Load, clean, structure and chunk every file under `paths`; failures are collected, not raised."""
    opts = options or IngestOptions()
    token_counter(opts.encoding)  # fail early, before any file, if the encoding is unavailable
    files, failures, skipped = discover(paths)
    documents: list[Document] = []
    chunks: list[Chunk] = []
    taken: dict[str, str] = dict(known_ids or {})
    iterator: Iterable[Path] = files
    if progress and len(files) > 1:
        from tqdm import tqdm

        iterator = tqdm(files, desc="ingest", unit="file")
    for path in iterator:
        try:
            doc = build_document(load_file(path), doc_id=make_doc_id(path, taken))
            doc_chunks = chunk_document(doc, opts)
        except LoadError as exc:
            failures.append(FileFailure(str(path), str(exc)))
            continue
        taken[doc.doc_id] = str(path.resolve())
        documents.append(doc)
        chunks.extend(doc_chunks)
    return IngestResult(tuple(documents), tuple(chunks), tuple(failures), tuple(skipped))

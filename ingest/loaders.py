"""Reading files into text: encoding detection and one loader per format.

Plain text keeps its characters exactly (only decoded), so offsets into the
loaded text are offsets into the file's characters. HTML, PDF and DOCX are
turned into text first; their offsets then refer to that extracted text.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass, field
from pathlib import Path

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES

# A policy document bigger than this is almost certainly not one (a log, a dump).
MAX_FILE_BYTES = 50 * 1024 * 1024


class LoadError(Exception):
    """A file cannot be turned into text; the message names it and says why."""


@dataclass(frozen=True)
class LoadedText:
    """A file's text before cleaning."""

    path: Path
    text: str
    encoding: str
    kind: str
    title: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode bytes of unknown encoding: BOMs, then UTF-8, then GB18030, then detection.

    Chinese government files are often GBK/GB18030; GB18030 is a superset of GBK
    and GB2312, so it decodes all three.

    >>> decode_bytes("武汉".encode("gbk"))
    ('武汉', 'gb18030')
    >>> decode_bytes(codecs.BOM_UTF8 + "武汉".encode())
    ('武汉', 'utf-8-sig')
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    for bom, name in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom) :].decode(name, errors="replace"), name.replace("-le", "").replace("-be", "")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise LoadError("the text encoding could not be recognized (not UTF-8, GB18030 or a known encoding)")
    return str(best), best.encoding


def looks_binary(data: bytes) -> bool:
    """True for data with NUL bytes or mostly control bytes (images, archives, executables).

    >>> looks_binary(b"\\x00\\x01\\x02PNG"), looks_binary("政策".encode())
    (True, False)
    """
    head = data[:8192]
    if not head:
        return False
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return control / len(head) > 0.1


def _sidecar_metadata(path: Path) -> dict[str, str]:
    """Metadata from `NAME.json` beside `NAME.txt` (title, publisher, date...), if present."""
    side = path.with_suffix(".json")
    if not side.is_file():
        return {}
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, (str, int, float))}


def load_file(path: Path) -> LoadedText:
    """Read one file of a supported kind into text, or raise LoadError saying why not."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(
            f"unsupported file type {suffix or '(no extension)'}; supported: "
            + ", ".join(sorted(SUPPORTED_SUFFIXES))
        )
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LoadError(f"file is {size / 1e6:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MiB limit")
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise LoadError("file is empty")
    metadata = _sidecar_metadata(path)
    if suffix in PDF_SUFFIXES:
        return _load_pdf(path, data, metadata)
    if suffix in DOCX_SUFFIXES:
        return _load_docx(path, data, metadata)
    if looks_binary(data):
        raise LoadError("file looks binary, not text (is the extension right?)")
    text, encoding = decode_bytes(data)
    if suffix in HTML_SUFFIXES:
        from policybot.ingest.html_text import html_to_text

        title, body = html_to_text(text)
        return LoadedText(path, body, encoding, "html", title or metadata.get("title", ""), metadata)
    return LoadedText(path, text, encoding, "text", metadata.get("title", ""), metadata)


def _load_pdf(path: Path, data: bytes, metadata: dict[str, str]) -> LoadedText:
    try:
        import io

        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:
        raise LoadError("PDF support is an extra: pip install 'policybot[pdf]'") from exc
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise LoadError(f"not a readable PDF ({exc})") from exc
    text = "\n\n".join(p.strip() for p in pages)
    if not text.strip():
        raise LoadError("PDF has no extractable text (a scan? run OCR first)")
    info: dict[str, object] = dict(reader.metadata or {})
    title = metadata.get("title", "") or str(info.get("/Title", "") or "")
    return LoadedText(path, text, "pdf", "pdf", title, metadata)


def _load_docx(path: Path, data: bytes, metadata: dict[str, str]) -> LoadedText:
    try:
        import io
        import zipfile

        import docx
    except ImportError as exc:
        raise LoadError("DOCX support is an extra: pip install 'policybot[docx]'") from exc
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(f"not a readable DOCX file ({exc})") from exc
    text = "\n\n".join(p.text.strip() for p in document.paragraphs if p.text.strip())
    if not text.strip():
        raise LoadError("DOCX has no text")
    title = metadata.get("title", "") or (document.core_properties.title or "")
    return LoadedText(path, text, "docx", "docx", title, metadata)

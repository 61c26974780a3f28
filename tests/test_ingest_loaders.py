"""Loaders: encodings, formats, and clear failures for bad files."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from policybot.ingest.loaders import LoadError, decode_bytes, load_file
from policybot.ingest.pipeline import ingest_paths

TEXT = "武汉市促进未来产业发展的实施方案。\n脑机接口依托东湖高新区、洪山区等区。"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("gbk"), "gb18030"),
        (TEXT.encode("gb18030"), "gb18030"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
    ],
)
def test_decode(data: bytes, encoding: str) -> None:
    text, found = decode_bytes(data)
    assert text == TEXT
    assert found == encoding


def test_html_drops_scripts_styles_and_navigation(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text(
        "<html><head><title>实施方案</title><style>p{}</style><script>var a=1;</script></head><body>"
        "<nav><a>首页</a><a>新闻</a></nav><div class='breadcrumb'>首页 > 政策</div>"
        "<article><h1>实施方案</h1><p>第一段。</p><p>第二段。</p></article>"
        "<footer>版权所有</footer></body></html>",
        encoding="gbk",
    )
    loaded = load_file(page)
    assert loaded.title == "实施方案"
    assert loaded.text == "实施方案\n第一段。\n第二段。"
    assert loaded.encoding == "gb18030"


def test_pdf_and_docx(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_paragraph("脑机接口依托东湖高新区。")
    d.save(tmp_path / "a.docx")
    assert "东湖高新区" in load_file(tmp_path / "a.docx").text
    pypdf = pytest.importorskip("pypdf")
    w = pypdf.PdfWriter()
    w.add_blank_page(width=200, height=200)
    with (tmp_path / "blank.pdf").open("wb") as f:
        w.write(f)
    with pytest.raises(LoadError, match="no extractable text"):
        load_file(tmp_path / "blank.pdf")
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(LoadError, match="PDF"):
        load_file(tmp_path / "bad.pdf")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\n ", "empty"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        ("notes.xyz", b"hello", "unsupported"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(LoadError, match=message):
        load_file(p)


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "also.md").write_text("# 标题\n\n新型储能依托江夏区。", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "skip.json").write_text("{}")
    (tmp_path / ".hidden.txt").write_text("hidden")
    result = ingest_paths([tmp_path, tmp_path / "missing.txt"])
    assert sorted(d.doc_id for d in result.documents) == ["also", "good"]
    failed = {Path(f.path).name: f.reason for f in result.failures}
    assert set(failed) == {"empty.txt", "missing.txt"}
    assert any(p.endswith("skip.json") for p in result.skipped)


def test_ignore_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "NAMES.md").write_text("# names", encoding="utf-8")
    (tmp_path / ".policybotignore").write_text("NAMES.md\n", encoding="utf-8")
    result = ingest_paths([tmp_path])
    assert [d.doc_id for d in result.documents] == ["a"]

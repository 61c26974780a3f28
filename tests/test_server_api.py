"""REST API and hardening, against a real uvicorn server on 127.0.0.1 with a fake bot injected.

One server with the Gradio pages serves most tests (module scope: Gradio's first import
costs a few seconds); tests that need their own limits start small API-only servers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from policybot.bot.records import Answer, Citation
from policybot.bot.service import AnswerEvent, check_question
from policybot.bot.settings import Settings

ALLOWED = "http://127.0.0.1:9"  # an origin allowed to embed and call; nothing listens there
DENIED = "http://evil.example"
BCI_QUOTE = "脑机接口依托东湖高新区、洪山区等区,开展非侵入式修复型脑机接口等领域研究。"


class FakeBot:
    """Duck-types policybot.bot.service.Bot with canned answers; records what it was asked."""

    llm_available = False
    ready_seconds = 0.01

    def __init__(self, *, gate: threading.Event | None = None) -> None:
        self.calls: list[tuple[str, int | None, bool | None]] = []
        self.gate = gate  # when set, answering waits for it (to hold a slot busy)
        self.entered = threading.Event()

    def answer(self, question: str, *, k: int | None = None, use_llm: bool | None = None) -> Answer:
        q = check_question(question)
        self.calls.append((q, k, use_llm))
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        if "moon" in q:
            return Answer(q, "The documents do not say.", (), True, "en")
        c = Citation(1, "wuhan#12", "wuhan", ("未来健康", "脑机接口"), BCI_QUOTE,
                     f"（二）未来健康 {BCI_QUOTE}推动应用。", 9, 9 + len(BCI_QUOTE), 0.83)
        return Answer(q, "East Lake High-tech Zone (东湖高新区) and Hongshan District (洪山区) [1]", (c,), False, "en")

    def stream(self, question: str, *, k: int | None = None, use_llm: bool | None = None) -> Iterator[AnswerEvent]:
        a = self.answer(question, k=k, use_llm=use_llm)
        yield AnswerEvent(a.text, a)

    def health(self) -> dict[str, object]:
        return {"status": "ok", "index": "fake", "model": "fake-model", "documents": 1, "chunks": 3}


def start(bot: Any, settings: Settings, **kw: Any) -> Any:
    from policybot.bot.server import create_app, start_background

    return start_background(create_app(bot, settings, **kw))


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("index")
    (folder / "manifest.json").write_text('{"secret": "index manifest"}', encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def site(index_dir: Path) -> Iterator[str]:
    """The full app (API + chat + widget) with one allowed embedding origin."""
    server = start(FakeBot(), Settings(index_dir=index_dir, allow_origins=(ALLOWED,), rate_limit=0))
    yield server.url.rstrip("/")
    server.stop()


@pytest.fixture()
def client(site: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site, timeout=10) as c:
        yield c


# --------------------------------------------------------------------------- the API
def test_ask_returns_the_answer_json(client: httpx.Client) -> None:
    r = client.post("/api/ask", json={"question": "Which districts host brain-computer interface work?"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"question", "answer", "abstained", "language", "citations"}
    assert "Hongshan District (洪山区)" in body["answer"] and body["abstained"] is False
    (c,) = body["citations"]
    assert set(c) == {"n", "chunk_id", "doc_id", "section", "quote", "text", "start", "end", "score"}
    assert c["quote"] == BCI_QUOTE and c["quote"] in c["text"] and c["section"] == ["未来健康", "脑机接口"]


def test_ask_passes_k_and_llm_through(site: str) -> None:
    bot = FakeBot()
    server = start(bot, Settings(), ui=False)
    try:
        r = httpx.post(server.url + "api/ask", json={"question": "  moon?  ", "k": 3, "llm": False})
        assert r.status_code == 200 and r.json()["abstained"] is True
        assert bot.calls == [("moon?", 3, False)]
    finally:
        server.stop()


def test_health_reports_index_model_and_counts(client: httpx.Client) -> None:
    r = client.get("/api/health")
    assert r.status_code == 200
    h = r.json()
    assert (h["status"], h["model"], h["documents"], h["chunks"]) == ("ok", "fake-model", 1, 3)
    assert h["busy"]["max_concurrency"] >= 1


@pytest.mark.parametrize("question", ["", "   \n ", "问" * 2001])
def test_empty_or_overlong_question_is_422_with_a_message(client: httpx.Client, question: str) -> None:
    r = client.post("/api/ask", json={"question": question})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "empty" in detail or "limit is 2000" in detail


@pytest.mark.parametrize("body", [{"k": 2}, {"question": "q", "k": 0}, {"question": 5}])
def test_invalid_fields_are_422(client: httpx.Client, body: dict[str, object]) -> None:
    assert client.post("/api/ask", json=body).status_code == 422


def test_big_body_is_413_with_or_without_content_length(client: httpx.Client) -> None:
    big = '{"question": "' + "x" * 20_000 + '"}'
    r = client.post("/api/ask", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for _ in range(20):
            yield b"x" * 1024

    r = client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_rate_limit_is_429_with_retry_after() -> None:
    server = start(FakeBot(), Settings(rate_limit=3), ui=False)
    try:
        codes = [httpx.post(server.url + "api/ask", json={"question": f"q{i}"}).status_code for i in range(3)]
        r = httpx.post(server.url + "api/ask", json={"question": "one too many"})
        assert codes == [200, 200, 200] and r.status_code == 429
        assert 1 <= int(r.headers["retry-after"]) <= 60 and "per minute" in r.json()["detail"]
        assert httpx.get(server.url + "api/health").status_code == 200  # only questions count
    finally:
        server.stop()


def test_full_queue_answers_503_busy() -> None:
    release = threading.Event()
    bot = FakeBot(gate=release)
    server = start(bot, Settings(max_concurrency=1, max_queue=0, rate_limit=0), ui=False)
    try:
        first: dict[str, int] = {}
        t = threading.Thread(target=lambda: first.update(
            code=httpx.post(server.url + "api/ask", json={"question": "slow"}, timeout=20).status_code))
        t.start()
        assert bot.entered.wait(10)
        r = httpx.post(server.url + "api/ask", json={"question": "next"})
        assert r.status_code == 503 and "busy" in r.json()["detail"] and r.headers["retry-after"]
        release.set()
        t.join(20)
        assert first["code"] == 200
    finally:
        release.set()
        server.stop()


# --------------------------------------------------------------------------- CORS and headers
def test_cors_allows_the_configured_origin_only(client: httpx.Client) -> None:
    pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = client.options("/api/ask", headers={"Origin": ALLOWED, **pre})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == ALLOWED
    r = client.post("/api/ask", json={"question": "districts?"}, headers={"Origin": ALLOWED})
    assert r.headers["access-control-allow-origin"] == ALLOWED

    bad = client.options("/api/ask", headers={"Origin": DENIED, **pre})
    assert bad.status_code >= 400 and "access-control-allow-origin" not in bad.headers
    r = client.post("/api/ask", json={"question": "districts?"}, headers={"Origin": DENIED})
    assert "access-control-allow-origin" not in r.headers
    # Gradio's own endpoints follow the same policy (it defers to ours).
    r = client.get("/embed/config", headers={"Origin": DENIED})
    assert "access-control-allow-origin" not in r.headers


def test_embed_pages_carry_frame_ancestors_for_allowed_origins(client: httpx.Client) -> None:
    r = client.get("/embed/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert r.headers["content-security-policy"] == f"frame-ancestors 'self' {ALLOWED}"
    main = client.get("/")
    assert main.status_code == 200
    assert main.headers["content-security-policy"] == "frame-ancestors 'self'"
    assert main.headers["x-frame-options"] == "SAMEORIGIN"
    for h in (r.headers, main.headers, client.get("/api/health").headers):
        assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"]


def test_howto_page_has_snippets_for_this_server(client: httpx.Client, site: str) -> None:
    r = client.get("/embed/howto")
    assert r.status_code == 200
    assert f'&lt;iframe src=&quot;{site}/embed/&quot;' in r.text
    assert f'&lt;gradio-app src=&quot;{site}/embed/&quot;&gt;' in r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'self'" in csp
    loader = client.get("/embed/gradio.js")
    assert loader.status_code == 200 and "import(" in loader.text


def test_openapi_docs_describe_the_api(client: httpx.Client) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/ask" in paths and "/api/health" in paths
    assert not any(p.startswith("/gradio_api") for p in paths)


@pytest.mark.parametrize("path", [
    "/file=/etc/passwd",
    "/gradio_api/file=/etc/passwd",
    "/embed/gradio_api/file=/etc/passwd",
    "/gradio_api/file=/proc/self/environ",
    "/static/../../../../etc/passwd",
    "/assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
])
def test_no_access_to_arbitrary_files(client: httpx.Client, path: str) -> None:
    r = client.get(path)
    assert r.status_code != 200 or ("root:" not in r.text and "PATH=" not in r.text)


def test_no_access_to_the_index(client: httpx.Client, index_dir: Path) -> None:
    for prefix in ("/gradio_api/file=", "/embed/gradio_api/file=", "/file="):
        r = client.get(f"{prefix}{index_dir / 'manifest.json'}")
        assert r.status_code != 200 and "index manifest" not in r.text


def test_eval_report_is_served_when_given(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text("<!DOCTYPE html><title>eval</title><p>pass rate 0.9</p>", encoding="utf-8")
    server = start(FakeBot(), Settings(), ui=False, eval_report=report)
    try:
        r = httpx.get(server.url + "eval")
        assert r.status_code == 200 and "pass rate" in r.text
        assert "default-src 'none'" in r.headers["content-security-policy"]
        report.unlink()
        assert httpx.get(server.url + "eval").status_code == 404
    finally:
        server.stop()


# --------------------------------------------------------------------------- the command
def test_serve_command_parses_repeatable_origins() -> None:
    from policybot.bot.cli import build_parser

    args = build_parser().parse_args(["serve", "--port", "0", "--allow-origin", "https://a.example",
                                      "--allow-origin", "http://localhost:8000", "--index", "/tmp/i"])
    assert args.allow_origin == ["https://a.example", "http://localhost:8000"]
    assert args.port == 0 and args.index == Path("/tmp/i") and args.func.__name__ == "cmd_serve"


def test_bad_origin_is_refused_with_a_hint() -> None:
    from policybot.bot.server import ServeError, normalize_origins

    assert normalize_origins(("https://a.example/",)) == ("https://a.example",)
    with pytest.raises(ServeError, match="scheme://host"):
        normalize_origins(("a.example/path",))


def test_taken_port_is_a_clear_error() -> None:
    from policybot.bot.server import ServeError, bind_socket

    sock = bind_socket("127.0.0.1", 0)
    try:
        with pytest.raises(ServeError, match="--port"):
            bind_socket("127.0.0.1", sock.getsockname()[1])
    finally:
        sock.close()


# --------------------------------------------------------------------------- the chat event
def test_chat_event_streams_then_shows_cited_sources() -> None:
    from policybot.bot.chat_ui import respond

    outputs = list(respond(FakeBot(), " Which districts? ", 4.0, None, []))
    assert "pb-streaming" in outputs[0][0][-1]["content"]  # a placeholder answer shows at once
    chat, panel, box, turns = outputs[-1]
    assert box == "" and [t.question for t in turns] == ["Which districts?"]
    assert 'href="#pb-src-1-1"' in chat[-1]["content"] and 'id="pb-src-1-1"' in panel
    assert f"<mark>{BCI_QUOTE}</mark>" in panel


def test_chat_event_clamps_k_and_refuses_overlong_questions() -> None:
    import gradio as gr

    from policybot.bot.chat_ui import respond

    bot = FakeBot()
    list(respond(bot, "q", 10_000, None, []))
    assert bot.calls[-1][1] == 50
    with pytest.raises(gr.Error, match="2000"):
        list(respond(bot, "问" * 2001, 6, None, []))

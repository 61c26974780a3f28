"""End to end in headless Chromium with the real bot: the chat at `/`, and the widget framed by another site.

Uses Debian's /usr/bin/chromium (Playwright never downloads a browser here). Without it the
tests skip, except under CI=true, where a missing browser is a failure. Screenshots go to
test-artifacts/ (gitignored).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [
    pytest.mark.browser,
    # Gradio's queue calls pandas APIs that pandas 3 deprecates; nothing to act on here.
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
QUESTION = "Which districts host brain-computer interface work?"
TIMEOUT_MS = 60_000  # a first answer on a 2-core CI machine can take a while


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing; install it with: apt-get install -y chromium chromium-driver"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def other_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A plain static site on another port: the 'customer' page that embeds the widget."""
    root = tmp_path_factory.mktemp("site")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The real bot: bundled model, index built from the bundled corpus into a temporary folder."""
    _require_chromium()
    from policybot.bot.service import Bot
    from policybot.bot.settings import load_settings

    tmp = tmp_path_factory.mktemp("browser")
    config = tmp / "empty.toml"  # keep the user's own settings file out of the test
    config.write_text("", encoding="utf-8")
    settings = load_settings({"index_dir": tmp / "index"}, environ={}, config_file=config)
    return Bot.from_settings(settings, build_if_missing=True)


@pytest.fixture(scope="module")
def server(bot: Any, other_site: tuple[str, Path]) -> Iterator[str]:
    from dataclasses import replace

    from policybot.bot.server import create_app, start_background

    settings = replace(bot.settings, allow_origins=(other_site[0],))
    running = start_background(create_app(bot, settings))
    yield running.url.rstrip("/")
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _ask(scope: Any, question: str) -> None:
    box = scope.locator("#pb-question textarea")
    box.fill(question)
    box.press("Enter")


def _districts_named(text: str) -> bool:
    return bool(re.search("East Lake|东湖", text)) and bool(re.search("Hongshan|洪山", text))


def _expected_quote(server: str) -> str:
    r = httpx.post(f"{server}/api/ask", json={"question": QUESTION}, timeout=60)
    r.raise_for_status()
    return str(r.json()["citations"][0]["quote"])


def test_chat_answers_and_a_citation_opens_its_highlighted_source(browser: Any, server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((server, "data:", "blob:")) else outside.append(r.url))
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server}/")
    _ask(page, QUESTION)
    answer = page.locator("#pb-chat .pb-answer:not(.pb-streaming)").last
    answer.wait_for()
    assert _districts_named(answer.inner_text()), answer.inner_text()

    link = answer.locator("a.pb-cite").first
    link.click()
    card = page.locator(f"#{link.get_attribute('href').lstrip('#')}")
    mark = card.locator("mark")
    mark.wait_for(state="visible")
    assert "pb-active" in (card.get_attribute("class") or "")
    assert mark.inner_text().strip() == _expected_quote(server).strip()
    assert card.locator(".pb-section").inner_text().strip()  # the section path is shown
    page.screenshot(path=str(ARTIFACTS / "browser-chat.png"), full_page=True)
    assert not outside, f"the page fetched from outside the server: {outside}"
    page.close()


def test_widget_framed_by_an_allowed_site_answers_with_citations(
    browser: Any, server: str, other_site: tuple[str, Path]
) -> None:
    from policybot.bot.embed_page import snippets

    origin, root = other_site
    (root / "host.html").write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>A city portal</title></head>"
        "<body style='font-family:sans-serif;background:#eef2f7;margin:24px'><h2>A city portal</h2>"
        f"{snippets(server).iframe}</body></html>", encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 760, "height": 820})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{origin}/host.html")
    frame = page.frame_locator("iframe")
    _ask(frame, QUESTION)
    answer = frame.locator("#pb-chat .pb-answer:not(.pb-streaming)").last
    answer.wait_for()
    assert _districts_named(answer.inner_text())
    answer.locator("a.pb-cite").first.click()
    mark = frame.locator(".pb-card.pb-active mark")
    mark.wait_for(state="visible")
    assert "脑机接口" in mark.inner_text()
    page.screenshot(path=str(ARTIFACTS / "browser-embed-iframe.png"))
    page.close()


def test_web_component_on_an_allowed_site_answers(browser: Any, server: str, other_site: tuple[str, Path]) -> None:
    from policybot.bot.embed_page import snippets

    origin, root = other_site
    (root / "component.html").write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><h2>A city portal</h2>"
        f"{snippets(server).web_component}</body></html>", encoding="utf-8")
    page = browser.new_page(viewport={"width": 900, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{origin}/component.html")
    _ask(page, QUESTION)  # cross-origin calls from the component: CORS allows this origin
    answer = page.locator("#pb-chat .pb-answer:not(.pb-streaming)").last
    answer.wait_for()
    assert _districts_named(answer.inner_text())
    page.close()


def test_widget_refuses_to_be_framed_by_other_origins(browser: Any, server: str,
                                                       other_site: tuple[str, Path]) -> None:
    from policybot.bot.embed_page import snippets

    origin, root = other_site
    (root / "elsewhere.html").write_text(f"<!DOCTYPE html>{snippets(server).iframe}", encoding="utf-8")
    # The same site as http://localhost:PORT is a different origin from the allowed 127.0.0.1 one.
    other = origin.replace("127.0.0.1", "localhost")
    page = browser.new_page()
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text, timeout=TIMEOUT_MS):
        page.goto(f"{other}/elsewhere.html")
    page.close()


def test_howto_page_previews_the_widget(browser: Any, server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1100, "height": 1300})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server}/embed/howto")
    assert f'<iframe src="{server}/embed/"' in page.locator("#snippet-iframe").inner_text()
    page.frame_locator("iframe.preview").locator("#pb-question textarea").wait_for()  # same origin: allowed
    page.screenshot(path=str(ARTIFACTS / "browser-embed-howto.png"), full_page=True)
    page.close()

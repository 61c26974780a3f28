"""The web layer's pure parts: HTML rendering (escaping, citation links, highlighting), limits, snippets."""

from __future__ import annotations

import asyncio
import re

import pytest

from policybot.bot.limits import BusyError, ConcurrencyGate, RateLimiter
from policybot.bot.records import Answer, Citation
from policybot.bot.web_render import Turn, answer_html, chat_messages, highlight, sources_html

HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>**b** $x$ [9](javascript:alert(3))'
QUOTE = "脑机接口依托东湖高新区、洪山区等区,开展非侵入式修复型脑机接口等领域研究。"


def cite(n: int = 1, *, text: str | None = None, quote: str = QUOTE) -> Citation:
    return Citation(n, f"wuhan#{n}", "wuhan", ("未来健康", "脑机接口"), quote,
                    text if text is not None else f"前文。{quote}后文。", 3, 3 + len(quote), 0.8)


def tags(html: str) -> set[str]:
    return set(re.findall(r"<\s*([a-zA-Z]+)", html))


# Only these tags may appear in anything we render; everything else must arrive escaped.
OUR_TAGS = {"div", "a", "span", "mark", "details", "summary", "section", "q", "blockquote", "br"}


def test_hostile_text_never_becomes_markup() -> None:
    a = Answer(HOSTILE, HOSTILE + " [1]", (cite(text=HOSTILE + QUOTE),), False, "en")
    t = Turn(1, HOSTILE, a)
    for html in (answer_html(a, turn=1), sources_html([t]), *(m["content"] for m in chat_messages([t]))):
        assert tags(html) <= OUR_TAGS, html
        assert "onerror=" not in html.replace("onerror=&quot;", "")  # only as escaped text
        assert 'href="javascript' not in html
        assert "**b**" not in html and "$x$" not in html  # Markdown/LaTeX characters neutralised


@pytest.mark.parametrize("text", [HOSTILE, "What is Wuhan's revenue target?", "a &amp; b &#35; \\ `x` 100%"])
def test_escaping_is_lossless_and_single_pass(text: str) -> None:
    from html import unescape

    from policybot.bot.web_render import esc

    assert unescape(esc(text)) == text  # what the browser shows is exactly the source text
    assert "&#x27;" not in unescape(esc(text)) or "&#x27;" in text


def test_citation_markers_link_to_their_cards_and_unknown_ones_stay_text() -> None:
    a = Answer("q", "East Lake [1], also [2].", (cite(1),), False, "en")
    html = answer_html(a, turn=4)
    assert '<a class="pb-cite" href="#pb-src-4-1"' in html and ">1</a>" in html
    assert "&#91;2&#93;" in html  # [2] has no citation: not a link
    assert 'id="pb-src-4-1"' in sources_html([Turn(4, "q", a)])


def test_the_quote_is_marked_inside_its_passage() -> None:
    html = highlight(f"前文<b>。{QUOTE}后文", QUOTE)
    assert html == f"前文&lt;b&gt;。<mark>{QUOTE}</mark>后文"
    assert "<mark>" not in highlight("no quote here", QUOTE)
    card = sources_html([Turn(1, "q", Answer("q", "x [1]", (cite(),), False, "zh"))])
    assert "未来健康 › 脑机接口" in card and f"<mark>{QUOTE}</mark>" in card


def test_abstained_answers_look_different_and_show_related_reading() -> None:
    rel = cite(1, quote="到2027年,未来产业营收规模突破1000亿元。")
    a = Answer("月球?", "文件中没有提到月球。", (), True, "zh", related=(rel,))
    html = answer_html(a, turn=2)
    assert "pb-abstained" in html and "文件中未提及" in html
    panel = sources_html([Turn(2, "月球?", a)])
    assert "相关段落" in panel and 'id="pb-rel-2-1"' in panel


def test_earlier_turns_stay_reachable_in_the_panel() -> None:
    turns = [Turn(i, f"q{i}", Answer(f"q{i}", "a [1]", (cite(),), False, "en")) for i in (1, 2, 3)]
    panel = sources_html(turns)
    assert all(f'id="pb-src-{i}-1"' in panel for i in (1, 2, 3)) and "Earlier answers (2)" in panel


def test_rate_limiter_slides_per_client() -> None:
    now = [0.0]
    rl = RateLimiter(2, clock=lambda: now[0])
    assert [rl.check("a"), rl.check("a"), rl.check("b")] == [0, 0, 0]
    now[0] = 30.0
    assert rl.check("a") == 30  # the first of a's two stamps (t=0) leaves the window at t=60
    now[0] = 60.0
    assert rl.check("a") == 0
    assert RateLimiter(0).check("a") == 0  # 0 disables


def test_gate_bounds_running_and_waiting() -> None:
    async def scenario() -> list[str]:
        gate = ConcurrencyGate(1, 1)
        release = asyncio.Event()
        log: list[str] = []

        async def hold(name: str) -> None:
            try:
                async with gate.slot():
                    log.append(f"{name} in")
                    await release.wait()
            except BusyError:
                log.append(f"{name} busy")

        tasks = [asyncio.create_task(hold(n)) for n in ("a", "b", "c")]
        await asyncio.sleep(0.01)
        release.set()
        await asyncio.gather(*tasks)
        return log

    assert asyncio.run(scenario()) == ["a in", "c busy", "b in"]


def test_snippets_escape_the_address() -> None:
    from policybot.bot.embed_page import howto_html, snippets

    s = snippets('http://h"><script>x</script>')
    assert "<script>x" not in s.iframe
    page = howto_html('http://h"><script>x</script>', ())
    assert "<script>x" not in page and "--allow-origin" in page


@pytest.mark.parametrize("path,expected", [("/embed/", "'self' https://a"), ("/embed", "'self' https://a"),
                                           ("/embedded", "'self'"), ("/", "'self'")])
def test_frame_ancestors_only_open_the_widget(path: str, expected: str) -> None:
    from policybot.bot.middleware import frame_ancestors

    assert frame_ancestors(path, ("https://a",)) == expected

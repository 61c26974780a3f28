"""HTML for the chat: answers with clickable `[n]`, source cards with the quoted sentence marked.

Pure functions from records to strings. Every piece of text from an answer, a question or
a passage goes through `esc`, so nothing a user or a document says can become markup;
the only tags are the ones written here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policybot.bot.records import Answer, Citation

CITE_RE = re.compile(r"\[(\d{1,3})\]")
# One pass, char by char: HTML's specials become entities, and so do the characters that
# Markdown, KaTeX or Gradio's chat renderer might otherwise act on even inside our HTML
# (as numeric entities they display the same and mean nothing). A second pass over the
# output would mangle the entities of the first.
_ESCAPES = str.maketrans({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
    **{c: f"&#{ord(c)};" for c in "*_`~$\\[]|#"},
})
# Turns kept per session. Earlier answers' cards stay (folded) in the sources panel,
# so every [n] still shown in the chat has a card to open.
MAX_TURNS = 20

LABELS = {
    "en": {
        "abstained": "Not in the documents",
        "related": "Related reading",
        "related_hint": "The closest passages are listed under Related reading.",
        "sources_for": "Sources for",
        "earlier": "Earlier answers",
        "empty": "Ask a question. The passages an answer cites appear here, with the quoted sentence highlighted.",
        "opening": "(opening)",
        "no_sources": "No passages were cited.",
    },
    "zh": {
        "abstained": "文件中未提及",
        "related": "相关段落",
        "related_hint": "最接近的段落列在“相关段落”中。",
        "sources_for": "出处",
        "earlier": "较早的回答",
        "empty": "请提问。回答所引用的段落会显示在这里，并高亮被引用的句子。",
        "opening": "（开头）",
        "no_sources": "没有引用段落。",
    },
}


@dataclass(frozen=True)
class Turn:
    """One question and its final answer in a chat session; `id` keeps anchors unique per turn."""

    id: int
    question: str
    answer: Answer


def esc(text: str) -> str:
    """Escape text for HTML and neutralise Markdown/LaTeX characters.

    >>> esc("<b>5*2</b> & [1] Wuhan's")
    '&lt;b&gt;5&#42;2&lt;/b&gt; &amp; &#91;1&#93; Wuhan&#39;s'
    """
    return text.translate(_ESCAPES)


def _labels(language: str) -> dict[str, str]:
    return LABELS["zh" if language.startswith("zh") else "en"]


def source_id(turn: int, n: int, *, related: bool = False) -> str:
    """The DOM id of a source card. `source_id(3, 1)` → `'pb-src-3-1'`."""
    return f"pb-{'rel' if related else 'src'}-{turn}-{n}"


def section_path(section: tuple[str, ...], *, language: str = "en") -> str:
    """A chunk's heading path for display.

    >>> section_path(("未来健康", "脑机接口"))
    '未来健康 › 脑机接口'
    """
    return " › ".join(s.strip() for s in section if s.strip()) or _labels(language)["opening"]


def _lines(html_text: str) -> str:
    # A blank line would end the HTML block and hand the rest to Markdown.
    return "<br>".join(line for line in html_text.splitlines()) if "\n" in html_text else html_text


def answer_html(answer: Answer, *, turn: int) -> str:
    """The assistant's chat message: escaped text, `[n]` as links to the source cards.

    >>> from policybot.bot.records import Citation
    >>> c = Citation(1, "c1", "d", ("A",), "q", "q", 0, 1, 0.5)
    >>> a = Answer("Q?", "Yes <b> [1] [7]", (c,), False, "en")
    >>> answer_html(a, turn=2)  # doctest: +ELLIPSIS
    '<div class="pb-answer" ...>Yes &lt;b&gt; <a class="pb-cite" href="#pb-src-2-1" ...>1</a> &#91;7&#93;</div></div>'
    """
    cited = {c.n: c for c in answer.citations}
    parts: list[str] = []
    pos = 0
    for m in CITE_RE.finditer(answer.text):
        parts.append(esc(answer.text[pos:m.start()]))
        n = int(m.group(1))
        c = cited.get(n)
        if c is None:
            parts.append(esc(m.group(0)))
        else:
            target = source_id(turn, n)
            parts.append(f'<a class="pb-cite" href="#{target}" data-target="{target}" '
                         f'title="{esc(c.quote[:160])}" aria-label="source {n}">{n}</a>')
        pos = m.end()
    parts.append(esc(answer.text[pos:]))
    body = _lines("".join(parts))
    if not answer.abstained:
        return f'<div class="pb-answer" data-turn="{turn}"><div class="pb-text">{body}</div></div>'
    labels = _labels(answer.language)
    hint = f'<div class="pb-hint">{esc(labels["related_hint"])}</div>' if answer.related else ""
    return (f'<div class="pb-answer pb-abstained" data-turn="{turn}">'
            f'<div class="pb-badge">{esc(labels["abstained"])}</div>'
            f'<div class="pb-text">{body}</div>{hint}</div>')


def streaming_html(text: str) -> str:
    """A partial answer while it is being written (no links yet: numbers may still change)."""
    body = _lines(esc(text))
    return f'<div class="pb-answer pb-streaming"><div class="pb-text">{body}<span class="pb-caret"></span></div></div>'


def question_html(question: str) -> str:
    return f'<div class="pb-question">{_lines(esc(question))}</div>'


def highlight(passage: str, quote: str) -> str:
    """The passage, escaped, with the first occurrence of `quote` wrapped in <mark>.

    >>> highlight("前文。<引用>句子。后文", "<引用>句子。")
    '前文。<mark>&lt;引用&gt;句子。</mark>后文'
    """
    i = passage.find(quote) if quote else -1
    if i < 0:
        return esc(passage)
    return f"{esc(passage[:i])}<mark>{esc(quote)}</mark>{esc(passage[i + len(quote):])}"


def source_card(c: Citation, *, turn: int, language: str, related: bool = False, open_: bool = True) -> str:
    """One cited passage: number, section path, document, and the passage with the quote marked."""
    cid = source_id(turn, c.n, related=related)
    quote_missing = bool(c.quote) and c.quote not in c.text
    extra = f'<blockquote class="pb-quote">{esc(c.quote)}</blockquote>' if quote_missing else ""
    return (
        f'<details class="pb-card{" pb-related" if related else ""}" id="{cid}"{" open" if open_ else ""}>'
        f'<summary><span class="pb-n">{c.n}</span>'
        f'<span class="pb-section">{esc(section_path(c.section, language=language))}</span>'
        f'<span class="pb-doc" title="{esc(c.doc_id)}">{esc(c.doc_id)}</span></summary>'
        f'{extra}<div class="pb-passage">{_lines(highlight(c.text, c.quote))}</div></details>'
    )


def turn_sources(t: Turn, *, open_: bool = True) -> str:
    """The cards for one answer: its citations, or its related passages when it abstained."""
    a = t.answer
    labels = _labels(a.language)
    head = f'<div class="pb-sources-head">{esc(labels["sources_for"])}: <q>{esc(t.question)}</q></div>'
    cards = [source_card(c, turn=t.id, language=a.language, open_=open_) for c in a.citations]
    if a.related:
        cards.append(f'<div class="pb-related-head">{esc(labels["related"])}</div>')
        cards += [source_card(c, turn=t.id, language=a.language, related=True, open_=open_) for c in a.related]
    if not cards:
        cards.append(f'<div class="pb-muted">{esc(labels["no_sources"])}</div>')
    return f'<section class="pb-turn" data-turn="{t.id}">{head}{"".join(cards)}</section>'


def sources_html(turns: list[Turn], *, language: str = "en") -> str:
    """The sources panel: the latest answer's cards open, earlier answers' folded underneath."""
    title = '<div class="pb-panel-title">Sources · 出处</div>'
    if not turns:
        return f'{title}<div class="pb-sources pb-empty">{esc(_labels(language)["empty"])}</div>'
    latest, earlier = turns[-1], turns[-MAX_TURNS:-1]
    older = ""
    if earlier:
        labels = _labels(latest.answer.language)
        older = (f'<details class="pb-earlier"><summary>{esc(labels["earlier"])} ({len(earlier)})</summary>'
                 + "".join(turn_sources(t, open_=False) for t in reversed(earlier)) + "</details>")
    return f'{title}<div class="pb-sources">{turn_sources(latest)}{older}</div>'


def chat_messages(turns: list[Turn]) -> list[dict[str, str]]:
    """The gr.Chatbot value (messages format) for a session's turns."""
    messages: list[dict[str, str]] = []
    for t in turns[-MAX_TURNS:]:
        messages.append({"role": "user", "content": question_html(t.question)})
        messages.append({"role": "assistant", "content": answer_html(t.answer, turn=t.id)})
    return messages

"""The Gradio chat: the full page at `/` and the compact widget at `/embed`.

Gradio is imported at the top here because this module is imported only when the
server builds its pages, so commands that do not serve never pay for it. The answer and the sources are rendered by
bot/web_render.py (escaped HTML); bot/assets/chat.js makes `[n]` open its card.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import gradio as gr

from policybot.bot.web_render import (
    MAX_TURNS,
    Turn,
    chat_messages,
    esc,
    question_html,
    sources_html,
    streaming_html,
)

log = logging.getLogger("policybot.web")

EXAMPLES = (
    "Which districts host brain-computer interface work?",
    "哪些区发展脑机接口?",
    "What is Wuhan's revenue target for 2027?",
    "武汉基金和江城基金分别聚焦什么阶段?",
)
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "sans-serif")
MAX_K = 50
TITLE = "Wuhan Future Industries · Policy Q&A"
TITLE_ZH = "武汉未来产业政策问答"
PLACEHOLDER = ('<div class="pb-placeholder"><div class="pb-ph-title">Ask about Wuhan’s future-industries plan</div>'
               '<div class="pb-ph-sub">用中文或英文提问 · in Chinese or English · try an example below</div></div>')


@dataclass(frozen=True)
class ChatOptions:
    """What differs between the full page and the embeddable widget."""

    compact: bool = False
    k: int = 6
    llm_name: str | None = None
    report_link: bool = False


def asset_text(name: str) -> str:
    """A file shipped in bot/assets (CSS, JS), read from the installed package."""
    return resources.files("policybot.bot").joinpath("assets", name).read_text(encoding="utf-8")


def theme() -> Any:
    """A quiet theme with system fonts only: the default one fetches web fonts, and we run offline."""
    return gr.themes.Soft(
        primary_hue=gr.themes.colors.blue,
        secondary_hue=gr.themes.colors.sky,
        neutral_hue=gr.themes.colors.slate,
        radius_size=gr.themes.sizes.radius_md,
        font=["Inter", "system-ui", "-apple-system", "Segoe UI", *CJK_FONTS],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    ).set(body_background_fill="#f6f7f9", block_shadow="none")


def head_html() -> str:
    """Script for the page head: `[n]` links open and flash their source card."""
    return f"<script>{asset_text('chat.js')}</script>"


def respond(bot: Any, question: str, k: float | None, use_llm: bool | None,
            turns: list[Turn] | None) -> Iterator[tuple[list[dict[str, str]], str, str, list[Turn]]]:
    """The chat event: stream the answer into the chat, then show its sources.

    Yields (chat messages, sources panel HTML, new textbox value, turns). Problems the
    user can fix are raised as gr.Error, which Gradio shows as a notice, not a trace.
    """
    from policybot.bot.service import QuestionError, check_question

    turns = list(turns or [])
    if not (question or "").strip():  # Enter on an empty box: nothing to do, and nothing to scold
        yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return
    try:
        q = check_question(question)
    except QuestionError as exc:
        raise gr.Error(f"{str(exc)[:1].upper()}{str(exc)[1:]}.", title="Cannot ask that") from None
    history = chat_messages(turns)
    panel = sources_html(turns)
    history.append({"role": "user", "content": question_html(q)})
    yield [*history, {"role": "assistant", "content": streaming_html("")}], panel, "", turns
    try:
        final = None
        # k arrives from the browser: clamp it like the REST API's validation does.
        for event in bot.stream(q, k=min(max(int(k), 1), MAX_K) if k else None, use_llm=use_llm):
            if event.answer is not None:
                final = event.answer
            else:
                yield [*history, {"role": "assistant", "content": streaming_html(event.text)}], panel, "", turns
    except QuestionError as exc:
        raise gr.Error(str(exc), title="Cannot ask that") from None
    except Exception:
        log.exception("answering %r failed", q)
        raise gr.Error("Something went wrong while answering; the server log has the details.") from None
    if final is None:
        raise gr.Error("The answerer returned no answer; the server log may say why.")
    turns = [*turns, Turn(id=(turns[-1].id + 1 if turns else 1), question=q, answer=final)][-MAX_TURNS:]
    yield chat_messages(turns), sources_html(turns), "", turns


def _header(options: ChatOptions, stats: str) -> str:
    if options.compact:
        return (f'<div class="pb-header pb-compact"><span class="pb-logo">政</span>'
                f'<span class="pb-title">{esc(TITLE_ZH)}</span><span class="pb-sub">{esc(stats)}</span></div>')
    return (
        '<div class="pb-header"><span class="pb-logo">政</span><div>'
        f'<div class="pb-title">{esc(TITLE_ZH)} <span class="pb-title-en">{esc(TITLE)}</span></div>'
        '<div class="pb-sub">Answers come only from the plan’s text, in Chinese or English; every claim '
        f'cites the sentence it rests on. 回答只依据文件原文，并注明出处。 <span class="pb-stats">{esc(stats)}</span>'
        "</div></div></div>"
    )


def _footer(options: ChatOptions) -> str:
    links = ['<a href="docs" target="_blank" rel="noopener">REST API</a>',
             '<a href="embed/howto" target="_blank" rel="noopener">Embed this chat</a>']
    if options.report_link:
        links.append('<a href="eval" target="_blank" rel="noopener">Evaluation report</a>')
    items = ["<span>policybot · runs offline · answers cite exact source sentences</span>", *links]
    return f'<div class="pb-footer">{"<span>·</span>".join(items)}</div>'


def build_chat(bot: Any, options: ChatOptions) -> Any:
    """The gr.Blocks for one view; call `.queue(...)` on it before mounting."""

    health = _safe_health(bot)
    docs, chunks = health.get("documents", "?"), health.get("chunks", "?")
    stats = f"{docs} document{'' if docs == 1 else 's'} · {chunks} passages indexed"
    examples: list[Any] = [{"text": e} for e in EXAMPLES]
    # The widget fills its frame; the full page stays centred at a readable width.
    compact = options.compact
    with gr.Blocks(title=TITLE, fill_height=compact, fill_width=compact, analytics_enabled=False) as demo:
        turns = gr.State([])
        gr.HTML(_header(options, stats), padding=False, elem_classes=["pb-bare"])
        with gr.Row(equal_height=False, elem_classes=["pb-main"]):
            with gr.Column(scale=3, min_width=320, elem_classes=["pb-chat-col"]):
                chatbot = gr.Chatbot(
                    label="Chat", show_label=False, elem_id="pb-chat",
                    height=360 if options.compact else 560,
                    examples=examples, latex_delimiters=[], sanitize_html=True, allow_tags=False,
                    feedback_options=None, buttons=["copy"], group_consecutive_messages=False,
                    placeholder=None if options.compact else PLACEHOLDER,
                )
                with gr.Row(elem_classes=["pb-input-row"]):
                    question = gr.Textbox(
                        show_label=False, placeholder="Ask a question · 输入问题", lines=1, max_lines=4,
                        max_length=2000, scale=8, container=False, elem_id="pb-question", autofocus=not options.compact,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=72, elem_id="pb-send")
                k: gr.components.Component
                llm: gr.components.Component
                if options.compact:  # no settings in the widget: the server's defaults, kept server-side
                    k, llm = gr.State(options.k), gr.State(bool(options.llm_name))
                else:
                    with gr.Accordion("Settings", open=False, elem_id="pb-settings"):
                        k = gr.Slider(1, max(12, options.k), value=options.k, step=1, label="Passages to search (k)",
                                      info="More passages can find scattered facts; fewer keep answers focused.")
                        llm = gr.Checkbox(value=bool(options.llm_name), visible=bool(options.llm_name),
                                          label=f"Let the language model write the answer ({options.llm_name})",
                                          info="Off: the answer is assembled from the cited sentences only.")
                        clear = gr.Button("New conversation", size="sm", variant="secondary")
            with gr.Column(scale=2, min_width=300, elem_classes=["pb-sources-col"]):
                sources = gr.HTML(sources_html([]), elem_id="pb-sources", padding=False, elem_classes=["pb-bare"])
        gr.HTML(_footer(options) if not options.compact else
                '<div class="pb-footer">Answers cite the policy text · 回答引用政策原文</div>', padding=False,
                elem_classes=["pb-bare"])

        def ask(q: str, kk: float | None, use: bool | None, t: list[Turn]) -> Iterator[Any]:
            yield from respond(bot, q, kk, use, t)

        # One event per example click (not "fill the box, then ask"), so it costs one rate-limit slot.
        def ask_example(kk: float | None, use: bool | None, t: list[Turn], evt: gr.SelectData) -> Iterator[Any]:
            yield from respond(bot, example_text(evt), kk, use, t)

        io: dict[str, Any] = {"inputs": [question, k, llm, turns], "outputs": [chatbot, sources, question, turns],
              "api_visibility": "private", "show_progress": "hidden"}
        question.submit(ask, **io)
        send.click(ask, **io)
        chatbot.example_select(ask_example, **{**io, "inputs": [k, llm, turns]})
        reset: dict[str, Any] = {"fn": lambda: ([], sources_html([]), []), "inputs": None,
                 "outputs": [chatbot, sources, turns], "api_visibility": "private"}
        chatbot.clear(**reset)
        if not options.compact:
            clear.click(**reset)
    return demo


def example_text(evt: gr.SelectData) -> str:
    """The text of the example message the user clicked."""
    value = evt.value if isinstance(evt.value, dict) else {}
    return str(value.get("text", ""))


def _safe_health(bot: Any) -> dict[str, Any]:
    try:
        return dict(bot.health())
    except Exception:  # the header's numbers are cosmetic; never fail the page for them
        log.exception("bot.health() failed")
        return {}

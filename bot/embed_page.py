"""The `/embed/howto` page (snippets to embed the widget) and the `/embed/gradio.js` loader.

The page is plain HTML built here, with a strict Content-Security-Policy: its only
script is the copy-button handler below, allowed by its hash.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path

_COPY_JS = """document.addEventListener("click", function (ev) {
  var b = ev.target.closest("button[data-copy]");
  if (!b) return;
  var code = document.getElementById(b.getAttribute("data-copy")).textContent;
  navigator.clipboard.writeText(code).then(function () {
    b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 1500);
  });
});"""

_STYLE = """
body { margin: 0; background: #f6f7f9; color: #1f2937;
  font: 15px/1.6 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC",
  "Microsoft YaHei", sans-serif; }
main { max-width: 920px; margin: 0 auto; padding: 28px 20px 40px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; } h2 { font-size: 1.1rem; margin: 28px 0 6px; }
p.lead { color: #64748b; margin: 0 0 8px; }
.snippet { position: relative; }
pre { background: #0f172a; color: #e2e8f0; padding: 14px 16px; border-radius: 10px; overflow-x: auto;
  font: 13px/1.55 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 8px 0; }
button[data-copy] { position: absolute; top: 8px; right: 8px; border: 0; border-radius: 6px; padding: 4px 10px;
  background: #1d4ed8; color: #fff; cursor: pointer; font: inherit; font-size: 12px; }
code { background: #e8efff; color: #1d4ed8; padding: 1px 5px; border-radius: 4px; font-size: .92em; }
.note { background: #fff; border: 1px solid #e2e8f0; border-radius: 10px; padding: 10px 14px; }
.warn { border-color: #fdba74; background: #fff7ed; }
iframe.preview { width: 100%; height: 620px; border: 1px solid #e2e8f0; border-radius: 12px; background: #fff; }
a { color: #1d4ed8; }
"""


@dataclass(frozen=True)
class EmbedSnippets:
    """The copy-ready snippets for one server address."""

    iframe: str
    web_component: str | None


def snippets(base_url: str, *, has_loader: bool = True) -> EmbedSnippets:
    """Snippets pointing at `base_url` (scheme://host:port, no trailing slash).

    >>> print(snippets("http://127.0.0.1:7860").iframe)  # doctest: +NORMALIZE_WHITESPACE
    <iframe src="http://127.0.0.1:7860/embed/" title="Wuhan policy Q&amp;A" width="100%" height="620"
      style="border:1px solid #e2e8f0;border-radius:12px" loading="lazy"></iframe>
    """
    base = escape(base_url.rstrip("/"), quote=True)
    iframe = (f'<iframe src="{base}/embed/" title="Wuhan policy Q&amp;A" width="100%" height="620"\n'
              '  style="border:1px solid #e2e8f0;border-radius:12px" loading="lazy"></iframe>')
    component = (f'<script type="module" src="{base}/embed/gradio.js"></script>\n'
                 f'<gradio-app src="{base}/embed/"></gradio-app>') if has_loader else None
    return EmbedSnippets(iframe, component)


def _snippet_block(ident: str, code: str) -> str:
    return (f'<div class="snippet"><button type="button" data-copy="{ident}">Copy</button>'
            f'<pre id="{ident}">{escape(code)}</pre></div>')


def howto_html(base_url: str, allow_origins: tuple[str, ...], *, has_loader: bool = True) -> str:
    """The whole how-to page; `base_url` comes from the request, so it is escaped like any input."""
    s = snippets(base_url, has_loader=has_loader)
    if allow_origins:
        origins = ", ".join(f"<code>{escape(o)}</code>" for o in allow_origins)
        allowed = (f'<p class="note">Pages on these origins may embed the widget: {origins} '
                   "(and pages on this server). Add more with <code>policybot serve --allow-origin "
                   "https://your.site</code>.</p>")
    else:
        allowed = ('<p class="note warn">No other origin may embed the widget yet: browsers will refuse to show '
                   "it on your site. Start the server with <code>policybot serve --allow-origin "
                   "https://your.site</code> (repeatable) or set <code>allow_origins</code> in the settings file.</p>")
    component = ""
    if s.web_component:
        component = ("<h2>2. As a web component</h2>"
                     "<p>Renders inside your page rather than in a frame, so it takes your page's width. "
                     "The script comes from this server, so it works offline too.</p>"
                     + _snippet_block("snippet-wc", s.web_component))
    base = escape(base_url.rstrip("/"), quote=True)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Embed the policy chat</title><style>{_STYLE}</style></head><body><main>",
        "<h1>Embed the policy chat · 嵌入问答窗口</h1>",
        '<p class="lead">A compact chat about Wuhan’s future-industries plan that answers in Chinese or English '
        "and cites the source sentences. No key is needed.</p>",
        allowed,
        "<h2>1. As an iframe</h2><p>Paste this where the chat should appear:</p>",
        _snippet_block("snippet-iframe", s.iframe),
        component,
        "<h2>Preview</h2>",
        f'<iframe class="preview" src="{base}/embed/" title="Preview of the embedded chat"></iframe>',
        f'<p><a href="{base}/">Full chat</a> · <a href="{base}/docs">REST API</a></p>',
        f"</main><script>{_COPY_JS}</script></body></html>",
    ])


def howto_csp() -> str:
    """A CSP for the how-to page: nothing but its own styles, the copy script and the preview frame."""
    digest = base64.b64encode(hashlib.sha256(_COPY_JS.encode()).digest()).decode()
    return (f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; "
            "frame-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'")


def loader_js(gradio_frontend: Path) -> str | None:
    """A module that loads this server's own Gradio web component, or None if it cannot be found.

    Gradio's packaged front end names its bundle by content hash; the names are read
    from its index.html so the loader follows Gradio upgrades.
    """
    try:
        index = (gradio_frontend / "index.html").read_text(encoding="utf-8")
    except OSError:
        return None
    js = re.search(r'src="\./assets/(index-[\w-]+\.js)"', index)
    css = re.findall(r'href="\./assets/(index-[\w-]+\.css)"', index)
    if not js:
        return None
    return "\n".join([
        "// policybot: this server's Gradio web component (<gradio-app>), no CDN needed.",
        'const base = new URL(".", import.meta.url);',
        f"for (const name of {css!r}) {{",
        '  const href = new URL("assets/" + name, base).href;',
        '  if (!document.querySelector(`link[href="${href}"]`)) {',
        '    const link = document.createElement("link");',
        '    link.rel = "stylesheet"; link.crossOrigin = "anonymous"; link.href = href;',
        "    document.head.appendChild(link);",
        "  }",
        "}",
        f'import(new URL("assets/{js.group(1)}", base).href);',
    ])

"""HTML to plain text with a real parser: scripts, styles and navigation dropped."""

from __future__ import annotations

import re

# Elements that never hold policy content.
_DROP = (
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside",
    "form", "button", "iframe", "svg", "canvas", "select", "menu",
)
# Elements that start a new line in the rendered page.
_BLOCK = (
    "p", "div", "section", "article", "main", "br", "li", "tr", "h1", "h2", "h3", "h4",
    "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl", "dt", "dd", "figcaption",
)
_NAV_HINT = re.compile(r"(^|[-_\s])(nav|menu|breadcrumb|footer|header|sidebar|share|related|comment)s?($|[-_\s])", re.I)


def html_to_text(html: str) -> tuple[str, str]:
    """Return (title, body text) of an HTML page; block elements become line breaks.

    >>> html_to_text("<html><title>T</title><nav>menu</nav><p>一</p><p>二</p><script>x()</script></html>")
    ('T', '一\\n二')
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(list(_DROP) + ["title", "head"]):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.attrs is None:
            continue
        marker = " ".join([*(tag.get("class") or []), str(tag.get("id") or ""), str(tag.get("role") or "")])
        if marker.strip() and _NAV_HINT.search(marker):
            tag.decompose()
    for tag in soup.find_all(_BLOCK):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = soup.get_text()
    lines = [re.sub(r"[ \t\u00a0\u3000]+", " ", line).strip() for line in text.splitlines()]
    body = "\n".join(line for line in lines if line)
    heading = soup.find(["h1"])
    if not title and heading:
        title = heading.get_text(" ", strip=True)
    return title, body

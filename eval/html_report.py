"""A self-contained HTML report: metrics, a bar chart by category, a row per question.

No external assets (no scripts, fonts or stylesheets fetched), so the file can be
attached to a CI run or mailed and still open offline.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from policybot.eval.records import EvalResult, QuestionRow
from policybot.eval.table import columns_for, format_value
from policybot.ingest.files import atomic_write_text

# Figures drawn per category in the chart, with their bar colours.
CHART_FIGURES = (("pass_rate", "pass rate", "#2e7d32"), ("key_fact_recall", "key-fact recall", "#1565c0"))
CHART_RETRIEVAL = ("hit_rate", "hit@{k}", "#ef6c00")
_BAR_HEIGHT = 12
_LABEL_WIDTH = 170
_PLOT_WIDTH = 420

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #2e7d32; font-weight: bold; }
.fail { color: #c62828; font-weight: bold; }
.found { color: #2e7d32; }
.missing { color: #c62828; }
.answer { white-space: pre-wrap; max-width: 34em; }
.question { max-width: 22em; }
.small { font-size: 0.85em; color: #555; }
tr.failed { background: #fff6f6; }
.filters { position: sticky; top: 0; background: #fff; padding: 6px 0; border-bottom: 1px solid #ddd; }
.filters label { margin-right: 1em; }
"""

# Filters the question rows in the browser; the server allows exactly this script by its hash.
FILTER_SCRIPT = """
(function () {
  var form = document.getElementById('filters');
  if (!form) { return; }
  function apply() {
    var failed = form.elements.failed.checked, lang = form.elements.lang.value;
    var cat = form.elements.category.value, text = form.elements.text.value.toLowerCase();
    var shown = 0;
    document.querySelectorAll('tr[data-id]').forEach(function (row) {
      var ok = (!failed || row.dataset.passed === 'false') && (!lang || row.dataset.lang === lang) &&
               (!cat || row.dataset.category === cat) && (!text || row.textContent.toLowerCase().indexOf(text) >= 0);
      row.style.display = ok ? '' : 'none';
      if (ok) { shown += 1; }
    });
    document.getElementById('shown').textContent = shown + ' shown';
  }
  form.addEventListener('input', apply);
  apply();
})();
"""


def filter_script_hash() -> str:
    """The CSP source ('sha256-...') that allows FILTER_SCRIPT and nothing else."""
    import base64
    import hashlib

    return "'sha256-" + base64.b64encode(hashlib.sha256(FILTER_SCRIPT.encode()).digest()).decode() + "'"


def _filters(result: EvalResult) -> str:
    langs = sorted({r.lang for r in result.rows})
    cats = sorted({r.category for r in result.rows})
    opts = lambda values: "".join(f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)  # noqa: E731
    return (
        '<form id="filters" class="filters" onsubmit="return false">'
        '<label><input type="checkbox" name="failed"> failures only</label>'
        f'<label>language <select name="lang"><option value="">all</option>{opts(langs)}</select></label>'
        f'<label>category <select name="category"><option value="">all</option>{opts(cats)}</select></label>'
        '<label>search <input type="search" name="text" size="18"></label>'
        '<span id="shown" class="small"></span></form>'
    )


def render_html(result: EvalResult, *, title: str = "policybot evaluation") -> str:
    """The whole report as one HTML string (everything user-supplied is escaped)."""
    overall = result.metrics.overall
    stages = [s for s, ran in (("search", result.searched), ("answers", result.answered)) if ran]
    summary = (
        f"{overall.questions} questions ({overall.answerable} answerable, {overall.unanswerable} not); "
        f"evaluated: {', '.join(stages) or 'nothing'}; k = {result.k}"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
            f"<h1>{escape(title)}</h1>",
            f"<p>{escape(summary)}</p>",
            "<h2>Metrics</h2>",
            _metrics_table(result),
            "<h2>By category</h2>",
            bar_chart(result),
            "<h2>Questions</h2>",
            _filters(result),
            _questions_table(result),
            f"<script>{FILTER_SCRIPT}</script>",
            "</body></html>",
        ]
    )


def _metrics_table(result: EvalResult) -> str:
    cols = columns_for(result)
    head = "".join(f"<th>{escape(h)}</th>" for h in ["group", "n", *(h for _, h in cols)])
    rows = []
    for label, m in result.metrics.groups():
        cells = "".join(f'<td class="num">{escape(format_value(n, getattr(m, n)))}</td>' for n, _ in cols)
        rows.append(f'<tr><td>{escape(label)}</td><td class="num">{m.questions}</td>{cells}</tr>')
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def bar_chart(result: EvalResult) -> str:
    """An inline SVG of the headline figures per category: one group of bars per category."""
    figures = list(CHART_FIGURES) if result.answered else []
    if result.searched:
        name, label, colour = CHART_RETRIEVAL
        figures.append((name, label.format(k=result.k), colour))
    categories = list(result.metrics.by_category.items())
    if not figures or not categories:
        return "<p>Nothing to chart.</p>"
    group_height = _BAR_HEIGHT * len(figures) + 10
    legend_height = 22
    height = legend_height + group_height * len(categories) + 20
    width = _LABEL_WIDTH + _PLOT_WIDTH + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="metrics by category" '
        'font-family="sans-serif" font-size="11">'
    ]
    for i, (_, label, colour) in enumerate(figures):
        x = _LABEL_WIDTH + i * 140
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="13">{escape(label)}</text>')
    for row, (category, metrics) in enumerate(categories):
        top = legend_height + row * group_height
        middle = top + _BAR_HEIGHT * len(figures) / 2 + 4
        parts.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{middle:.0f}" text-anchor="end">'
            f"{escape(category)} ({metrics.questions})</text>"
        )
        for i, (name, label, colour) in enumerate(figures):
            value = getattr(metrics, name)
            y = top + i * _BAR_HEIGHT
            bar = 0.0 if value is None else max(0.0, min(1.0, value)) * _PLOT_WIDTH
            shown = "n/a" if value is None else f"{value:.2f}"
            parts.append(
                f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{bar:.1f}" height="{_BAR_HEIGHT - 2}" '
                f'fill="{colour}"><title>{escape(f"{category}: {label} {shown}")}</title></rect>'
            )
            parts.append(f'<text x="{_LABEL_WIDTH + bar + 4:.1f}" y="{y + _BAR_HEIGHT - 3}">{shown}</text>')
    axis_y = legend_height + group_height * len(categories)
    parts.append(
        f'<line x1="{_LABEL_WIDTH}" y1="{legend_height - 2}" x2="{_LABEL_WIDTH}" y2="{axis_y}" stroke="#888"/>'
    )
    for tick in (0.0, 0.5, 1.0):
        tick_x = _LABEL_WIDTH + tick * _PLOT_WIDTH
        parts.append(f'<text x="{tick_x:.0f}" y="{axis_y + 14}" text-anchor="middle">{tick:.1f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _questions_table(result: EvalResult) -> str:
    head = "<tr><th>id</th><th>question</th><th>expected</th><th>answer</th><th>citations</th>"
    head += "<th>retrieval</th><th>result</th></tr>"
    return f"<table>{head}{''.join(_question_row(row, result.k) for row in result.rows)}</table>"


def _question_row(row: QuestionRow, k: int) -> str:
    item = row.item
    if item.answerable:
        facts = []
        for i, fact in enumerate(item.key_facts):
            state = "" if not row.facts_found else ("found" if row.facts_found[i] else "missing")
            mark = {"found": "✓ ", "missing": "✗ "}.get(state, "")
            facts.append(f'<li class="{state}">{mark}{escape(" / ".join(fact))}</li>')
        expected = f"<ul>{''.join(facts)}</ul>"
    else:
        expected = "<em>not in the documents: should abstain</em>"
    if item.forbidden:
        expected += f'<div class="small">forbidden: {escape(", ".join(item.forbidden))}</div>'
    if row.answer is None:
        answer = '<span class="small">not asked</span>'
    else:
        answer = f'<div class="answer">{escape(row.answer)}</div>'
        if row.abstained:
            answer += '<div class="small">(abstained)</div>'
    citations = "".join(
        f'<li class="{"found" if c.supported else "missing"}">[{c.n}] {"✓" if c.supported else "✗"} '
        f'<span class="small">{escape(c.chunk_id)}</span> {escape(c.quote)}</li>'
        for c in row.citations
    )
    if row.hit is not None:
        rank = "not in top " + str(k) if row.first_relevant_rank is None else f"rank {row.first_relevant_rank}"
        retrieval = f"{escape(rank)}<div class='small'>{len(row.relevant)} relevant chunk(s)</div>"
    elif row.retrieved:
        retrieval = f"{len(row.retrieved)} hits"
    else:
        retrieval = "-"
    if row.passed is None:
        verdict = "-"
    else:
        verdict = '<span class="pass">PASS</span>' if row.passed else '<span class="fail">FAIL</span>'
    why = "".join(f"<li>{escape(reason)}</li>" for reason in row.reasons)
    if row.error:
        why += f"<li>{escape(row.error)}</li>"
    seconds = f"<div class='small'>{row.answer_seconds:.2f}s</div>" if row.answer_seconds is not None else ""
    return (
        f'<tr class="{"failed" if row.passed is False else ""}" data-id="{escape(item.id)}" '
        f'data-lang="{escape(item.lang)}" data-category="{escape(item.category)}" '
        f'data-passed="{"false" if row.passed is False else "true"}">'
        f"<td>{escape(item.id)}<div class='small'>{escape(item.lang)} · {escape(item.category)}</div></td>"
        f'<td class="question">{escape(item.question)}</td><td>{expected}</td><td>{answer}</td>'
        f"<td><ul>{citations}</ul></td><td>{retrieval}</td>"
        f"<td>{verdict}{seconds}<ul class='small'>{why}</ul></td></tr>"
    )


def write_html_report(result: EvalResult, path: str | os.PathLike[str], *, title: str = "policybot evaluation") -> Path:
    """Write the report to `path` atomically (temporary file, then os.replace); return the path.

    A reader never sees half a report, and a failed write leaves any earlier report in place.
    """
    target = Path(path)
    atomic_write_text(target, render_html(result, title=title))
    return target

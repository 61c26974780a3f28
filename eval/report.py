"""Presenting an evaluation: a terminal table and a JSON object of the metrics.

The HTML report and the side-by-side comparison live in their own modules and are
re-exported here, so `policybot.eval.report` is the one place the CLI imports from.
"""

from __future__ import annotations

from policybot.eval.compare import compare, compare_json
from policybot.eval.html_report import write_html_report
from policybot.eval.records import EvalResult
from policybot.eval.table import columns_for, format_value, render_table

FORMAT = "policybot-eval"
FORMAT_VERSION = 1


def format_table(result: EvalResult, *, max_failures: int = 20) -> str:
    """A readable terminal table: one line per group (overall, language, category), then failures."""
    cols = columns_for(result)
    header = ["group", "n", *(h for _, h in cols)]
    body = [
        [label, str(m.questions), *(format_value(name, getattr(m, name)) for name, _ in cols)]
        for label, m in result.metrics.groups()
    ]
    parts = [render_table(header, body)]
    failed = [r for r in result.rows if r.passed is False]
    if failed:
        lines = [f"failed: {len(failed)} of {len(result.rows)}"]
        for row in failed[:max_failures]:
            lines.append(f"  {row.id} [{row.lang}, {row.category}]: {'; '.join(row.reasons)}")
        if len(failed) > max_failures:
            lines.append(f"  ... and {len(failed) - max_failures} more (see the HTML or JSON report)")
        parts.append("\n".join(lines))
    errors = result.metrics.overall.errors
    if errors:
        parts.append(f"errors: {errors} question(s) raised; their rows carry the message")
    return "\n\n".join(parts)


def to_json(result: EvalResult, *, questions: bool = False) -> dict[str, object]:
    """The metrics as one JSON-ready object: overall, by_lang and by_category.

    With `questions=True` it also carries one object per question (answer, facts
    found, citations, pass/fail and why).
    """
    out: dict[str, object] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "k": result.k,
        "searched": result.searched,
        "answered": result.answered,
        "metrics": result.metrics.to_dict(),
        "failed": [r.id for r in result.rows if r.passed is False],
    }
    if questions:
        out["questions"] = [r.to_dict() for r in result.rows]
    return out


__all__ = [
    "compare",
    "compare_json",
    "format_table",
    "to_json",
    "write_html_report",
]

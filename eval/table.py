"""Plain-text tables of metrics, shared by the report and the comparison."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from policybot.eval.records import EvalResult

# (Metrics field, column header, stage the figure needs: "search" or "ask").
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("hit_at_1", "hit@1", "search"),
    ("hit_at_3", "hit@3", "search"),
    ("hit_rate", "hit@{k}", "search"),
    ("mrr", "MRR", "search"),
    ("ndcg", "nDCG@{k}", "search"),
    ("key_fact_recall", "facts", "ask"),
    ("set_f1", "setF1", "ask"),
    ("forbidden_rate", "forbid", "ask"),
    ("citation_accuracy", "cite", "ask"),
    ("abstention_precision", "abstP", "ask"),
    ("abstention_recall", "abstR", "ask"),
    ("pass_rate", "pass", "ask"),
    ("latency_mean", "s/q", "ask"),
)
# Figures where a smaller number is the better one.
LOWER_IS_BETTER = frozenset(
    {"forbidden_rate", "latency_mean", "latency_p50", "latency_p95", "latency_max", "search_latency_mean"}
)


def columns_for(result: EvalResult) -> list[tuple[str, str]]:
    """(field, header) of the figures this run measured."""
    ran = {"search": result.searched, "ask": result.answered}
    return [(name, header.format(k=result.k)) for name, header, stage in COLUMNS if ran[stage]]


def format_value(name: str, value: float | int | None) -> str:
    """One figure for a table cell: rates with two decimals, seconds with 's', '-' for none.

    >>> format_value("pass_rate", 0.8333), format_value("latency_mean", 1.234), format_value("mrr", None)
    ('0.83', '1.23s', '-')
    """
    if value is None:
        return "-"
    if "latency" in name:
        return f"{value:.2f}s"
    if isinstance(value, int):
        return str(value)
    return f"{value:.2f}"


def display_width(text: str) -> int:
    """Terminal columns `text` takes: East Asian wide characters take two.

    >>> display_width("abc"), display_width("区县")
    (3, 4)
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-align the first column, right-align the rest, pad for wide characters.

    >>> print(render_table(["group", "n"], [["overall", "12"], ["区", "3"]]))
    group     n
    -------  --
    overall  12
    区        3
    """
    widths = [max(display_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            pad = " " * (widths[i] - display_width(cell))
            out.append(cell + pad if i == 0 else pad + cell)
        return "  ".join(out).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])

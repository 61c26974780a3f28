"""Two evaluation runs side by side: every figure, its change, and which questions flipped."""

from __future__ import annotations

from collections.abc import Sequence

from policybot.eval.records import Breakdown, EvalResult, Metrics
from policybot.eval.table import LOWER_IS_BETTER, format_value, render_table

# Figures compared, with labels; measured ones only (a run without search has no hit rate).
FIGURES: tuple[tuple[str, str], ...] = (
    ("hit_at_1", "hit@1"),
    ("hit_at_3", "hit@3"),
    ("hit_rate", "hit@k"),
    ("mrr", "MRR"),
    ("ndcg", "nDCG@k"),
    ("key_fact_recall", "key-fact recall"),
    ("set_f1", "set F1"),
    ("forbidden_rate", "forbidden rate"),
    ("citation_accuracy", "citation accuracy"),
    ("abstention_precision", "abstention precision"),
    ("abstention_recall", "abstention recall"),
    ("pass_rate", "pass rate"),
    ("latency_mean", "latency mean"),
    ("latency_p50", "latency p50"),
    ("latency_p95", "latency p95"),
    ("search_latency_mean", "search latency mean"),
)
# The figures shown per language and category in the text form (the JSON form has all),
# with short column labels.
HEADLINE = (("pass_rate", "pass"), ("key_fact_recall", "facts"), ("hit_rate", "hit"))


def delta(a: float | None, b: float | None) -> float | None:
    """b - a, None unless both are measured.

    >>> delta(0.5, 0.75), delta(None, 0.75)
    (0.25, None)
    """
    return None if a is None or b is None else b - a


def format_delta(name: str, d: float | None) -> str:
    """Signed change, with '*' marking an improvement (lower is better for rates of harm and latency).

    >>> format_delta("pass_rate", 0.1), format_delta("forbidden_rate", 0.1), format_delta("mrr", 0.0)
    ('+0.10*', '+0.10', '0.00')
    """
    if d is None:
        return "-"
    text = f"{d:+.2f}" if round(d, 2) else "0.00"
    better = d < 0 if name in LOWER_IS_BETTER else d > 0
    return text + ("*" if better and round(d, 2) else "")


def _groups(a: Breakdown, b: Breakdown) -> list[tuple[str, Metrics | None, Metrics | None]]:
    """Groups of both runs, matched by label, in A's order then B's new ones."""
    left, right = dict(a.groups()), dict(b.groups())
    labels = list(left) + [label for label in right if label not in left]
    return [(label, left.get(label), right.get(label)) for label in labels]


def flips(result_a: EvalResult, result_b: EvalResult) -> dict[str, list[str]]:
    """Question ids by how their outcome changed from run a to run b (matched by id).

    "fixed": passing only in b; "broken": passing only in a; "only_in_a" / "only_in_b":
    asked in one run only.
    """
    pa = {row.id: row.passed for row in result_a.rows}
    pb = {row.id: row.passed for row in result_b.rows}
    shared = [q for q in pa if q in pb]
    return {
        "fixed": [q for q in shared if pb[q] is True and pa[q] is not True],
        "broken": [q for q in shared if pa[q] is True and pb[q] is not True],
        "only_in_a": [q for q in pa if q not in pb],
        "only_in_b": [q for q in pb if q not in pa],
    }


def compare_json(result_a: EvalResult, result_b: EvalResult, *, names: Sequence[str] = ("A", "B")) -> dict[str, object]:
    """Both runs' figures per group with their differences, and the questions that flipped.

    Shape: {"names": [a, b], "metrics": {"overall": {figure: {"a", "b", "delta"}},
    "by_lang": {...}, "by_category": {...}}, "fixed": [ids passing only in b],
    "broken": [ids passing only in a], "only_in_a": [...], "only_in_b": [...]}.
    """
    name_a, name_b = _two(names)

    def figures(ma: Metrics | None, mb: Metrics | None) -> dict[str, dict[str, float | None]]:
        out = {}
        for name, _ in FIGURES:
            va = getattr(ma, name) if ma else None
            vb = getattr(mb, name) if mb else None
            out[name] = {"a": va, "b": vb, "delta": delta(va, vb)}
        return out

    metrics: dict[str, dict[str, object]] = {"overall": {}, "by_lang": {}, "by_category": {}}
    for label, ma, mb in _groups(result_a.metrics, result_b.metrics):
        if label == "overall":
            metrics["overall"] = dict(figures(ma, mb))
        else:
            kind, _, key = label.partition(":")
            metrics["by_lang" if kind == "lang" else "by_category"][key] = figures(ma, mb)
    return {"names": [name_a, name_b], "k": [result_a.k, result_b.k], "metrics": metrics, **flips(result_a, result_b)}


def compare(result_a: EvalResult, result_b: EvalResult, *, names: Sequence[str] = ("A", "B")) -> str:
    """A text side-by-side of two runs: overall figures, headline figures per group, flipped questions.

    A '*' after a change marks an improvement of the second run over the first.
    """
    name_a, name_b = _two(names)
    changed = flips(result_a, result_b)
    at_k = f"@{result_a.k}" if result_a.k == result_b.k else "@k"
    overall = result_a.metrics.overall, result_b.metrics.overall
    measured = [
        (name, label)
        for name, label in FIGURES
        if getattr(overall[0], name) is not None or getattr(overall[1], name) is not None
    ]
    rows = [
        [
            label.replace("@k", at_k) + (" (lower is better)" if name in LOWER_IS_BETTER else ""),
            format_value(name, getattr(overall[0], name)),
            format_value(name, getattr(overall[1], name)),
            format_delta(name, delta(getattr(overall[0], name), getattr(overall[1], name))),
        ]
        for name, label in measured
    ]
    parts = [render_table(["overall", name_a, name_b, "change"], rows)]

    headline = [(n, lab) for n, lab in HEADLINE if any(n == m for m, _ in measured)]
    if headline:
        header = ["group", "n"]
        for _, label in headline:
            header += [f"{label} {name_a}", f"{label} {name_b}", "change"]
        body = []
        for label, ma, mb in _groups(result_a.metrics, result_b.metrics):
            count = ma.questions if ma else mb.questions if mb else 0
            cells = [label, str(count)]
            for name, _ in headline:
                va = getattr(ma, name) if ma else None
                vb = getattr(mb, name) if mb else None
                cells += [format_value(name, va), format_value(name, vb), format_delta(name, delta(va, vb))]
            body.append(cells)
        parts.append(render_table(header, body))

    lines = []
    for key, text in (
        ("fixed", f"passing in {name_b}, not in {name_a}"),
        ("broken", f"passing in {name_a}, not in {name_b}"),
        ("only_in_a", f"only in {name_a}"),
        ("only_in_b", f"only in {name_b}"),
    ):
        ids = changed[key]
        if ids:
            lines.append(f"{text} ({len(ids)}): {', '.join(ids)}")
    parts.append("\n".join(lines) if lines else "no question changed outcome")
    return "\n\n".join(parts)


def _two(names: Sequence[str]) -> tuple[str, str]:
    if len(names) != 2:
        raise ValueError(f"compare needs two names, one per run; got {list(names)!r}")
    return names[0], names[1]

"""Evaluation: answer sets, their validation, metrics, runs, reports and comparisons."""

from policybot.eval.aggregate import aggregate, breakdown
from policybot.eval.answer_set import (
    AnswerSetError,
    EvalItem,
    Problem,
    item_problems,
    load_answer_set,
    parse_answer_set,
)
from policybot.eval.check import check_answer_set
from policybot.eval.compare import compare, compare_json
from policybot.eval.html_report import write_html_report
from policybot.eval.records import Breakdown, CitationCheck, EvalResult, Metrics, QuestionRow
from policybot.eval.report import format_table, to_json
from policybot.eval.runner import run_eval
from policybot.eval.shipped import shipped_set, shipped_sets

__all__ = [
    "AnswerSetError",
    "Breakdown",
    "CitationCheck",
    "EvalItem",
    "EvalResult",
    "Metrics",
    "Problem",
    "QuestionRow",
    "aggregate",
    "breakdown",
    "check_answer_set",
    "compare",
    "compare_json",
    "format_table",
    "item_problems",
    "load_answer_set",
    "parse_answer_set",
    "run_eval",
    "shipped_set",
    "shipped_sets",
    "to_json",
    "write_html_report",
]

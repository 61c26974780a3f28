"""Reports: terminal table, JSON, self-contained HTML, and the side-by-side comparison."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from policybot.eval import EvalItem, EvalResult, QuestionRow, breakdown
from policybot.eval.records import CitationCheck
from policybot.eval.report import compare, compare_json, format_table, to_json, write_html_report

BCI = EvalItem(
    id="bci-en",
    lang="en",
    question="Which districts host <BCI>?",
    answerable=True,
    key_facts=(("洪山区", "Hongshan"), ("东湖高新区", "East Lake")),
    forbidden=("江夏区",),
    evidence=("脑机接口依托东湖高新区、洪山区等区",),
    category="districts",
)
REV = EvalItem(
    id="rev-zh",
    lang="zh",
    question="2027年营收目标?",
    answerable=True,
    key_facts=(("1000亿",),),
    evidence=("营业收入规模突破1000亿元",),
    category="targets",
)
JOBS = EvalItem(id="jobs-zh", lang="zh", question="就业岗位?", answerable=False, category="unanswerable")


def result_from(rows: list[QuestionRow]) -> EvalResult:
    return EvalResult(rows=tuple(rows), metrics=breakdown(rows), k=5, searched=True, answered=True)


def run_a() -> EvalResult:
    return result_from(
        [
            QuestionRow(
                item=BCI,
                retrieved=("c1", "c2"),
                relevant=("c2",),
                first_relevant_rank=2,
                hit=1.0,
                reciprocal_rank=0.5,
                ndcg=0.63,
                answer="Hongshan (洪山区) & Jiangxia (江夏区)",
                abstained=False,
                citations=(CitationCheck(1, "c2", "脑机接口依托…", True),),
                facts_found=(True, False),
                forbidden_found=("江夏区",),
                key_fact_recall=0.5,
                set_f1=0.5,
                passed=False,
                reasons=("missing key fact: 东湖高新区 / East Lake", "forbidden: 江夏区"),
                answer_seconds=0.8,
            ),
            QuestionRow(
                item=REV,
                retrieved=("c3",),
                relevant=("c3",),
                first_relevant_rank=1,
                hit=1.0,
                reciprocal_rank=1.0,
                ndcg=1.0,
                answer="突破1000亿元",
                abstained=False,
                facts_found=(True,),
                key_fact_recall=1.0,
                passed=True,
                answer_seconds=0.4,
            ),
            QuestionRow(
                item=JOBS,
                retrieved=("c4",),
                answer="大约十万个",
                abstained=False,
                passed=False,
                reasons=("answered a question the documents do not answer (should abstain)",),
                answer_seconds=0.2,
            ),
        ]
    )


def run_b() -> EvalResult:
    a = run_a()
    bci, rev, jobs = a.rows
    fixed = replace(
        bci,
        answer="东湖高新区、洪山区",
        facts_found=(True, True),
        forbidden_found=(),
        key_fact_recall=1.0,
        set_f1=1.0,
        passed=True,
        reasons=(),
    )
    abstains = replace(jobs, answer="文件未提及。", abstained=True, passed=True, reasons=())
    return result_from([fixed, rev, abstains])


def test_format_table_lists_groups_and_failures() -> None:
    text = format_table(run_a())
    lines = text.splitlines()
    assert lines[0].split()[:6] == ["group", "n", "hit@1", "hit@3", "hit@5", "MRR"]
    assert any(line.startswith("overall") for line in lines)
    assert any(line.startswith("lang:zh") for line in lines)
    assert any(line.startswith("cat:unanswerable") for line in lines)
    assert "failed: 2 of 3" in text
    assert "bci-en [en, districts]: missing key fact: 东湖高新区 / East Lake; forbidden: 江夏区" in text


def test_to_json_has_breakdowns() -> None:
    data = to_json(run_a())
    json.dumps(data)  # serializable as is
    metrics = data["metrics"]
    assert metrics["overall"]["pass_rate"] == 1 / 3
    assert metrics["by_lang"]["zh"]["questions"] == 2
    assert metrics["by_category"]["districts"]["forbidden_rate"] == 1.0
    assert data["failed"] == ["bci-en", "jobs-zh"]
    assert "questions" not in data
    assert to_json(run_a(), questions=True)["questions"][0]["id"] == "bci-en"


def test_html_report_is_self_contained_and_has_every_row(tmp_path: Path) -> None:
    path = write_html_report(run_a(), tmp_path / "out" / "report.html")
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    for item_id in ("bci-en", "rev-zh", "jobs-zh"):
        assert item_id in html
    assert "Which districts host &lt;BCI&gt;?" in html  # escaped
    assert "forbidden: 江夏区" in html and "PASS" in html and "FAIL" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert html.count("<script") == 1 and "<script src" not in html and "<link" not in html  # only the inline filter
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # no temp file left


def test_html_report_replaces_an_old_one(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text("old", encoding="utf-8")
    write_html_report(run_b(), path)
    assert "old" != path.read_text(encoding="utf-8") and "rev-zh" in path.read_text(encoding="utf-8")


def test_compare_side_by_side() -> None:
    text = compare(run_a(), run_b(), names=("baseline", "llm"))
    assert "baseline" in text and "llm" in text
    # Pass rate 1/3 -> 3/3: +0.67, marked as an improvement.
    assert any(line.startswith("pass rate") and "+0.67*" in line for line in text.splitlines())
    # Forbidden rate 1.0 -> 0.0 is an improvement although it falls.
    assert any(line.startswith("forbidden rate") and "-1.00*" in line for line in text.splitlines())
    assert "passing in llm, not in baseline (2): bci-en, jobs-zh" in text


def test_compare_json() -> None:
    data = compare_json(run_a(), run_b(), names=("a", "b"))
    json.dumps(data)
    assert data["names"] == ["a", "b"]
    assert data["fixed"] == ["bci-en", "jobs-zh"] and data["broken"] == []
    overall = data["metrics"]["overall"]["key_fact_recall"]
    assert overall == {"a": 0.75, "b": 1.0, "delta": 0.25}
    assert data["metrics"]["by_category"]["districts"]["pass_rate"]["delta"] == 1.0
    assert data["metrics"]["by_lang"]["zh"]["abstention_recall"] == {"a": 0.0, "b": 1.0, "delta": 1.0}


def test_report_has_failure_filter_allowed_by_hash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import re

    from policybot.eval.answer_set import EvalItem
    from policybot.eval.html_report import FILTER_SCRIPT, filter_script_hash, render_html
    from policybot.eval.records import Breakdown, EvalResult, Metrics, QuestionRow

    item = EvalItem(id="q1", lang="en", question="Which districts?", answerable=True, key_facts=(("洪山区",),),
                    evidence=("脑机接口依托东湖高新区、洪山区等区",), category="districts")
    row = QuestionRow(item=item, answer="none", abstained=False, passed=False, reasons=("missing key fact",))
    result = EvalResult(rows=(row,), metrics=Breakdown(overall=Metrics(questions=1, answerable=1, unanswerable=0)),
                        k=5, searched=False, answered=True)
    html = render_html(result)
    assert 'name="failed"' in html and 'data-passed="false"' in html and 'data-category="districts"' in html
    script = re.search(r"<script>(.*?)</script>", html, re.S)
    assert script is not None and script.group(1) == FILTER_SCRIPT
    assert filter_script_hash().startswith("'sha256-")

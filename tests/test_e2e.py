"""End to end with the real bundled model: build the index, ask through the CLI, gate on the dev set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

DISTRICTS = ["东湖高新区", "武汉经开区", "长江新区", "江汉区", "汉阳区", "武昌区", "青山区", "洪山区", "东西湖区", "江夏区",
             "黄陂区", "新洲区"]

# The dev-set gate: thresholds sit just under the figures measured when they were set, so a
# regression fails the build. Re-measure with `policybot eval dev --json` before moving them.
# Measured: hit@1 0.90, hit@3 0.96, MRR 0.93, key-fact recall 0.95, citation accuracy 0.93,
# abstention precision and recall 1.00, pass rate 0.94, no forbidden strings.
GATE = {
    "hit_at_1": 0.87,
    "hit_at_3": 0.93,
    "mrr": 0.90,
    "key_fact_recall": 0.92,
    "citation_accuracy": 0.90,
    "abstention_precision": 0.90,
    "abstention_recall": 0.90,
    "pass_rate": 0.90,
}
MAX_FORBIDDEN_RATE = 0.0


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("e2e") / "index"
    run = subprocess.run(
        [sys.executable, "-m", "policybot.bot.cli", "index", "--out", str(out), "--json"],
        capture_output=True, text=True, timeout=900, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["documents"] == 1 and summary["chunks"] > 10
    assert summary["model"].startswith("intfloat/multilingual-e5-small")
    return out


def _ask(index_dir: Path, *questions: str, stdin: str | None = None) -> list[dict]:  # type: ignore[type-arg]
    run = subprocess.run(
        [sys.executable, "-m", "policybot.bot.cli", "ask", "--index", str(index_dir), "--json", *questions],
        capture_output=True, text=True, timeout=600, input=stdin, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines() if line.strip()]


def test_bci_question_in_both_languages(index_dir: Path) -> None:
    en, zh = _ask(index_dir, "Which districts host brain-computer interface work?", "哪些区发展脑机接口?")
    assert set(en) == {"question", "answer", "abstained", "language", "citations"}
    assert en["language"] == "en" and zh["language"] == "zh"
    assert "East Lake High-tech Zone (东湖高新区)" in en["answer"] and "Hongshan District (洪山区)" in en["answer"]
    assert {d for d in DISTRICTS if d in en["answer"]} == {"东湖高新区", "洪山区"}
    assert {d for d in DISTRICTS if d in zh["answer"]} == {"东湖高新区", "洪山区"}
    for answer in (en, zh):
        assert not answer["abstained"]
        (cite,) = answer["citations"]
        assert set(cite) == {"n", "chunk_id", "doc_id", "section", "quote", "text", "start", "end", "score"}
        assert cite["quote"].startswith("脑机接口依托东湖高新区、洪山区等区")
        assert cite["quote"] in cite["text"] and cite["section"] == ["未来健康", "脑机接口"]
        assert f"[{cite['n']}]" in answer["answer"]


def test_questions_from_stdin_and_abstention(index_dir: Path) -> None:
    answers = _ask(index_dir, stdin="What is Shanghai's plan for humanoid robots?\n\n上海市未来产业的发展目标是什么?\n")
    assert len(answers) == 2
    assert all(a["abstained"] and a["citations"] == [] for a in answers)
    assert answers[0]["answer"].startswith("The documents do not say")
    assert answers[1]["answer"].startswith("文件中没有提到")


def test_dev_set_gate(index_dir: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "policybot.bot.cli", "eval", "dev", "--index", str(index_dir), "--json"],
        capture_output=True, text=True, timeout=1800, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert run.returncode == 0, run.stderr
    metrics = json.loads(run.stdout)["metrics"]
    low = {name: metrics["overall"][name] for name, floor in GATE.items() if metrics["overall"][name] < floor}
    assert not low, f"dev-set figures fell under the gate: {low}"
    assert metrics["overall"]["forbidden_rate"] <= MAX_FORBIDDEN_RATE
    for lang in ("en", "zh"):
        assert metrics["by_lang"][lang]["key_fact_recall"] >= GATE["key_fact_recall"] - 0.05, lang

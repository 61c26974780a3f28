"""check_answer_set: every kind of problem, with its line number, and the shipped sets pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policybot.eval import AnswerSetError, check_answer_set, load_answer_set, shipped_set
from policybot.eval.answer_set import EvalItem

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus" / "wuhan-future-industries-2024-08-02.txt"
DOC = "脑机接口依托东湖高新区、洪山区等区,开展非侵入式修复型脑机接口等领域研究。"
DOCS = {"doc": DOC}


def good(**overrides: object) -> dict[str, object]:
    item: dict[str, object] = {
        "id": "bci-en",
        "lang": "en",
        "question": "Which districts host brain-computer interfaces?",
        "answerable": True,
        "key_facts": [["洪山区", "Hongshan"]],
        "forbidden": ["江夏区"],
        "evidence": ["脑机接口依托东湖高新区、洪山区等区"],
        "category": "districts",
    }
    item.update(overrides)
    return item


def write(tmp_path: Path, lines: list[object], name: str = "set.jsonl") -> Path:
    path = tmp_path / name
    text = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def messages(problems: list) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in problems]


def test_a_good_set_has_no_problems(tmp_path: Path) -> None:
    path = write(tmp_path, [good(), good(id="none", answerable=False, key_facts=[], evidence=[], question="Budget?")])
    assert check_answer_set(path, DOCS) == []
    assert [i.id for i in load_answer_set(path)] == ["bci-en", "none"]


def test_bad_json_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, [good(), '{"id": "x", "lang": ', good(id="b", question="Other?")])
    [(line, message)] = messages(check_answer_set(path, DOCS))
    assert line == 2 and message.startswith("invalid JSON")


def test_wrong_types_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, [good(answerable="yes", key_facts=["洪山区"], forbidden="江夏区", lang=1)])
    found = " | ".join(m for _, m in messages(check_answer_set(path, DOCS)))
    assert "'answerable' must be true or false" in found
    assert "key_facts[0] must be a non-empty list" in found
    assert "'forbidden' must be a list" in found
    assert "'lang' must be a string" in found


def test_a_line_that_is_not_an_object(tmp_path: Path) -> None:
    path = write(tmp_path, [good(), "[1, 2]"])
    assert messages(check_answer_set(path, DOCS)) == [(2, "expected a JSON object {...} on this line")]


def test_missing_and_unknown_fields(tmp_path: Path) -> None:
    item = good(evidance=["typo"])
    del item["evidence"], item["forbidden"]
    path = write(tmp_path, [item])
    found = messages(check_answer_set(path, DOCS))
    assert (1, "missing field(s): forbidden, evidence") in found
    assert any(line == 1 and m.startswith("unknown field(s): evidance") for line, m in found)


def test_duplicate_keys_on_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, ['{"id": "a", "id": "b"}'])
    [(line, message)] = messages(check_answer_set(path, DOCS))
    assert line == 1 and "'id' appears twice" in message


def test_unknown_lang(tmp_path: Path) -> None:
    path = write(tmp_path, [good(lang="fr")])
    assert messages(check_answer_set(path, DOCS)) == [(1, "unknown lang 'fr'; use 'en' or 'zh'")]


def test_duplicate_ids_point_at_the_first_use(tmp_path: Path) -> None:
    path = write(tmp_path, [good(), good(question="Another question?")])
    assert messages(check_answer_set(path, DOCS)) == [(2, "duplicate id 'bci-en' (first used on line 1)")]


def test_duplicate_questions(tmp_path: Path) -> None:
    path = write(tmp_path, [good(), good(id="copy", question="which districts host  brain-computer interfaces?")])
    assert messages(check_answer_set(path, DOCS)) == [(2, "same question as line 1")]


def test_answerable_without_key_facts_or_evidence(tmp_path: Path) -> None:
    path = write(tmp_path, [good(key_facts=[], evidence=[])])
    found = [m for _, m in messages(check_answer_set(path, DOCS))]
    assert any(m.startswith("answerable question without key_facts") for m in found)
    assert any(m.startswith("answerable question without evidence") for m in found)


def test_unanswerable_with_key_facts(tmp_path: Path) -> None:
    path = write(tmp_path, [good(answerable=False, evidence=[])])
    [(line, message)] = messages(check_answer_set(path, DOCS))
    assert line == 1 and message.startswith("unanswerable question with key_facts")


def test_evidence_missing_from_the_documents(tmp_path: Path) -> None:
    path = write(tmp_path, [good(), good(id="b", question="Q2?", evidence=["脑机接口依托江夏区等区开展研究"])])
    [(line, message)] = messages(check_answer_set(path, DOCS))
    assert line == 2 and message.startswith("evidence[0] occurs in no document")
    assert "'脑机接口依托'" in message


def test_evidence_matches_across_width_and_whitespace(tmp_path: Path) -> None:
    # Full-width comma and a line break in the quote, ASCII comma in the document.
    path = write(tmp_path, [good(evidence=["洪山区等区，开展\n非侵入式修复型"])])
    assert check_answer_set(path, DOCS) == []


def test_empty_question(tmp_path: Path) -> None:
    path = write(tmp_path, [good(question="   ")])
    assert messages(check_answer_set(path, DOCS)) == [(1, "empty question")]


def test_forbidden_inside_an_accepted_spelling(tmp_path: Path) -> None:
    path = write(tmp_path, [good(forbidden=["洪山"])])
    [(_, message)] = messages(check_answer_set(path, DOCS))
    assert "forbidden '洪山' occurs in accepted spelling '洪山区'" in message


def test_too_short_evidence(tmp_path: Path) -> None:
    path = write(tmp_path, [good(evidence=["洪山区"])])
    [(_, message)] = messages(check_answer_set(path, DOCS))
    assert "shorter than 8 characters" in message


def test_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(good()).encode("utf-8") + b"\n")
    [(line, message)] = messages(check_answer_set(path, DOCS))
    assert line == 1 and "byte-order mark (BOM)" in message and "without BOM" in message


def test_gbk_file_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "gbk.jsonl"
    path.write_bytes(json.dumps(good(), ensure_ascii=False).encode("gbk") + b"\n")
    [(line, message)] = messages(check_answer_set(path, DOCS))
    assert line == 1 and "not valid UTF-8" in message and "GBK" in message


def test_utf16_file(tmp_path: Path) -> None:
    path = tmp_path / "u16.jsonl"
    path.write_bytes(json.dumps(good(), ensure_ascii=False).encode("utf-16"))
    [(_, message)] = messages(check_answer_set(path, DOCS))
    assert "UTF-16" in message and "save it as UTF-8" in message


def test_empty_file_and_missing_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    assert messages(check_answer_set(empty, DOCS)) == [(0, "the answer set has no questions")]
    [(_, message)] = messages(check_answer_set(tmp_path / "nope.jsonl", DOCS))
    assert message.startswith("cannot read the answer set")


def test_check_accepts_items_and_a_single_text() -> None:
    item = EvalItem(
        id="a",
        lang="zh",
        question="哪些区?",
        answerable=True,
        key_facts=(("洪山区",),),
        evidence=("脑机接口依托东湖高新区、洪山区等区",),
    )
    assert check_answer_set([item], DOC) == []
    with pytest.raises(ValueError, match="no documents"):
        check_answer_set([item], {})


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, ["not json", good(lang="de")])
    with pytest.raises(AnswerSetError) as caught:
        load_answer_set(path)
    assert [p.line for p in caught.value.problems] == [1, 2]
    assert "2 problem(s)" in str(caught.value) and f"{path}:2:" in str(caught.value)


@pytest.mark.parametrize("name", ["dev", "smoke"])
def test_shipped_sets_pass_check_against_the_corpus(name: str) -> None:
    corpus = CORPUS.read_text(encoding="utf-8")
    problems = check_answer_set(shipped_set(name), {CORPUS.stem: corpus})
    assert problems == [], "\n".join(str(p) for p in problems)


def test_dev_set_composition() -> None:
    items = load_answer_set(shipped_set("dev"))
    langs = [i.lang for i in items]
    assert len(items) >= 84 and langs.count("en") == langs.count("zh")
    assert sum(not i.answerable for i in items) >= 12
    assert len(load_answer_set(shipped_set("smoke"))) == 6

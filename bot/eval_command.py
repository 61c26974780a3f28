"""`policybot eval`: check answer sets, run them, report, and compare two configurations."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

CONFIG_KEYS = ("mode", "k", "index", "model", "chunk_tokens", "overlap", "llm")


class ConfigSpecError(ValueError):
    """A --compare configuration that cannot be understood."""


@dataclass(frozen=True)
class EvalConfig:
    """One configuration to evaluate: retrieval mode, k, and optionally another index/model/chunking."""

    name: str
    mode: str = "hybrid"
    k: int | None = None
    index: Path | None = None
    model: str | None = None
    chunk_tokens: int | None = None
    overlap: int | None = None
    llm: str | None = None


def parse_config(spec: str) -> EvalConfig:
    """`dense`, `bm25`, `hybrid`, or comma-separated key=value pairs.

    >>> parse_config("dense").mode
    'dense'
    >>> c = parse_config("chunk_tokens=96,mode=bm25")
    >>> (c.chunk_tokens, c.mode)
    (96, 'bm25')
    """
    cfg = EvalConfig(name=spec)
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if "=" not in part:
            if part not in ("dense", "bm25", "hybrid"):
                raise ConfigSpecError(f"--compare {spec!r}: {part!r} is not a mode (dense, bm25, hybrid) or key=value")
            cfg = replace(cfg, mode=part)
            continue
        key, value = (x.strip() for x in part.split("=", 1))
        if key not in CONFIG_KEYS:
            raise ConfigSpecError(f"--compare {spec!r}: unknown key {key!r}; known: {', '.join(CONFIG_KEYS)}")
        try:
            typed: Any = int(value) if key in ("k", "chunk_tokens", "overlap") else value
        except ValueError as exc:
            raise ConfigSpecError(f"--compare {spec!r}: {key} needs a whole number, not {value!r}") from exc
        if key == "index":
            typed = Path(value)
        if key == "mode" and value not in ("dense", "bm25", "hybrid"):
            raise ConfigSpecError(f"--compare {spec!r}: mode must be dense, bm25 or hybrid")
        cfg = replace(cfg, **{key: typed})
    return cfg


def _bot_for(cfg: EvalConfig, base: Any, args: argparse.Namespace, workdir: Path) -> Any:
    """A Bot for one configuration; a different chunking or model gets its own index built from the corpus."""
    from policybot.bot.service import Bot

    settings = replace(base, k=cfg.k or base.k, llm=cfg.llm if cfg.llm is not None else base.llm)
    ns = argparse.Namespace(model=cfg.model or getattr(args, "model", None), query_prompt=None, passage_prompt=None)
    if cfg.index is not None:
        settings = replace(settings, index_dir=cfg.index)
    elif cfg.chunk_tokens is not None or cfg.overlap is not None or cfg.model is not None:
        settings = replace(
            settings,
            index_dir=workdir / f"index-{abs(hash(cfg.name))}",
            chunk_tokens=cfg.chunk_tokens or base.chunk_tokens,
            overlap=base.overlap if cfg.overlap is None else cfg.overlap,
            model=cfg.model or base.model,
        )
        return Bot.from_settings(settings, build_if_missing=True, args=ns)
    return Bot.from_settings(settings, build_if_missing=args.index is None and cfg.index is None, args=ns)


def _run(items: Any, bot: Any, cfg: EvalConfig, *, answers: bool, progress: bool) -> Any:
    from policybot.eval import run_eval

    bot.extractive.mode = cfg.mode
    k = cfg.k or bot.settings.k
    return run_eval(
        items,
        search=lambda q, kk: bot.retriever.search(q, k=kk, mode=cfg.mode),
        ask=(lambda q: bot.answer(q, k=k)) if answers else None,
        k=max(10, k),
        progress=progress,
        chunks=bot.retriever.data.chunks,
    )


def _resolve_set(name: str) -> Path:
    from policybot.eval import shipped_set

    p = Path(name)
    if p.suffix == ".jsonl" or p.exists():
        return p
    return shipped_set(name)


def cmd_eval(args: argparse.Namespace) -> int:
    from policybot.bot.commands import _settings
    from policybot.eval import AnswerSetError, format_table, load_answer_set, to_json, write_html_report

    paths = list(args.paths)
    if paths and paths[0] == "check":
        return _check(args, paths[1:])
    if len(paths) != 1:
        raise ConfigSpecError("give one answer set: policybot eval SET.jsonl (or a shipped set: dev, smoke)")
    path = _resolve_set(paths[0])
    try:
        items = load_answer_set(path)
    except AnswerSetError as exc:
        print(f"error: {path} is not a valid answer set:", file=sys.stderr)
        for p in exc.problems[:50]:
            print(f"  {p}", file=sys.stderr)
        return 1
    base = _settings(args, index_dir=args.index, k=args.k, llm=args.llm)
    progress = not args.json and sys.stderr.isatty()
    with tempfile.TemporaryDirectory(prefix="policybot-eval-") as tmp:
        if args.compare:
            cfg_a, cfg_b = (parse_config(s) for s in args.compare)
            res_a = _run(items, _bot_for(cfg_a, base, args, Path(tmp)), cfg_a, answers=not args.retrieval_only,
                         progress=progress)
            res_b = _run(items, _bot_for(cfg_b, base, args, Path(tmp)), cfg_b, answers=not args.retrieval_only,
                         progress=progress)
            from policybot.eval import compare, compare_json

            names = (cfg_a.name, cfg_b.name)
            if args.json:
                print(json.dumps(compare_json(res_a, res_b, names=names), ensure_ascii=False))
            else:
                print(compare(res_a, res_b, names=names))
            if args.report:
                write_html_report(res_b, args.report, title=f"policybot evaluation: {names[1]}")
            return 0
        cfg = parse_config(args.mode)
        result = _run(items, _bot_for(cfg, base, args, Path(tmp)), cfg, answers=not args.retrieval_only,
                      progress=progress)
    if args.report:
        write_html_report(result, args.report)
    if args.json:
        print(json.dumps(to_json(result, questions=args.questions), ensure_ascii=False))
    else:
        print(format_table(result))
        if args.report:
            print(f"\nreport written to {args.report}")
    return 0


def _check(args: argparse.Namespace, rest: list[str]) -> int:
    from policybot.eval import check_answer_set
    from policybot.ingest.pipeline import default_corpus_dir, ingest_paths

    if not rest:
        raise ConfigSpecError("give the answer set to check: policybot eval check SET.jsonl")
    documents = _documents(args)
    if documents is None:
        result = ingest_paths([default_corpus_dir()])
        documents = {d.doc_id: d.text for d in result.documents}
    failed = 0
    for name in rest:
        path = _resolve_set(name)
        problems = check_answer_set(path, documents)
        if args.json:
            print(json.dumps({"set": str(path), "ok": not problems,
                              "problems": [str(p) for p in problems]}, ensure_ascii=False))
        elif problems:
            print(f"{path}: {len(problems)} problem(s)")
            for p in problems:
                print(f"  {p}")
        else:
            print(f"{path}: ok")
        failed += bool(problems)
    return 1 if failed else 0


def _documents(args: argparse.Namespace) -> dict[str, str] | None:
    """The indexed corpus's texts when --index is given, else None (the bundled corpus is used)."""
    if args.index is None:
        return None
    from policybot.index.store import load_index

    data = load_index(args.index)
    return {d.doc_id: d.text for d in data.documents}


def register_eval(sub: Any) -> None:
    p = sub.add_parser(
        "eval",
        help="check and run evaluation answer sets",
        description="policybot eval SET.jsonl          run a set: retrieval and answer metrics by language/category\n"
        "policybot eval check SET.jsonl    validate a set against the indexed corpus\n"
        "SET may also name a shipped set: dev or smoke.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", metavar="SET", help="answer set(s); or 'check SET...'")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    p.add_argument("--questions", action="store_true", help="with --json, include one object per question")
    p.add_argument("--report", type=Path, metavar="FILE.html", help="write an HTML report")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"),
                   help="two configurations side by side: dense, bm25, hybrid, or key=value lists such as "
                   "'chunk_tokens=96' 'model=DIR' 'k=3' 'index=DIR'")
    p.add_argument("--mode", default="hybrid", help="retrieval mode or configuration to evaluate (default hybrid)")
    p.add_argument("--retrieval-only", action="store_true", help="measure retrieval only (no answers)")
    p.add_argument("-k", "--k", type=int, dest="k", metavar="N", help="passages per question")
    p.add_argument("--index", type=Path, metavar="DIR", help="index folder (default: built from the bundled corpus)")
    p.add_argument("--model", metavar="M", help="embedding model (default: the one the index was built with)")
    p.add_argument("--llm", metavar="MODEL", help="evaluate LLM answers")
    p.set_defaults(func=cmd_eval)

"""Subcommands beyond `ingest`: index, search, model (and the ones registered from other modules)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REGISTRY: list[Callable[[Any], None]] = []


def register(fn: Callable[[Any], None]) -> Callable[[Any], None]:
    REGISTRY.append(fn)
    return fn


def user_error_types() -> list[type[BaseException]]:
    """Exceptions from the library whose message is written for the user."""
    from policybot.bot.eval_command import ConfigSpecError
    from policybot.bot.llm import LLMError
    from policybot.bot.service import QuestionError
    from policybot.index.builder import NothingToIndexError, UnknownDocumentError
    from policybot.index.dense import FaissSpecError
    from policybot.index.embedding import ModelLoadError
    from policybot.index.lexicon import LexiconError
    from policybot.index.retriever import UnknownModeError
    from policybot.index.store import IndexLoadError

    return [IndexLoadError, NothingToIndexError, UnknownDocumentError, FaissSpecError, LexiconError,
            UnknownModeError, ModelLoadError, LLMError, ConfigSpecError, QuestionError]


def _settings(args: argparse.Namespace, **flags: Any) -> Any:
    from policybot.bot.settings import load_settings

    return load_settings({k: v for k, v in flags.items() if v is not None}, config_file=getattr(args, "config", None))


def _progress(args: argparse.Namespace) -> bool:
    return not getattr(args, "json", False) and sys.stderr.isatty()


def _add_model_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="M", help="sentence-transformers model name or folder "
                   "(default: the bundled multilingual-e5-small)")
    p.add_argument("--query-prompt", metavar="TEXT", help="prompt put before questions (default: the model's own)")
    p.add_argument("--passage-prompt", metavar="TEXT", help="prompt put before passages (default: the model's own)")


def _embedder(args: argparse.Namespace, model: str) -> Any:
    from policybot.index.embedding import make_embedder

    return make_embedder(model, query_prompt=getattr(args, "query_prompt", None),
                         passage_prompt=getattr(args, "passage_prompt", None))


# --------------------------------------------------------------------------- index
def cmd_index(args: argparse.Namespace) -> int:
    from policybot.index.builder import add_to_index, build_index, remove_from_index
    from policybot.ingest.pipeline import IngestOptions, default_corpus_dir

    settings = _settings(args, index_dir=args.out, model=args.model, chunk_tokens=args.chunk_tokens,
                         overlap=args.overlap, encoding=args.encoding)
    action, rest = "build", list(args.paths)
    if rest and rest[0] in ("add", "remove"):
        action, rest = rest[0], rest[1:]
    started = time.perf_counter()
    if action == "remove":
        if not rest:
            raise _usage("index remove needs at least one document id (see: policybot index --list)")
        report = remove_from_index(settings.index_dir, rest)
    elif action == "add":
        if not rest:
            raise _usage("index add needs at least one file or folder")
        from policybot.index.store import read_manifest

        model = args.model or read_manifest(settings.index_dir).model_id
        report = add_to_index(settings.index_dir, [Path(p) for p in rest],
                              embedder=_embedder(args, _model_arg(model)), progress=_progress(args))
    else:
        paths = [Path(p) for p in rest] or [default_corpus_dir()]
        options = IngestOptions(chunk_tokens=settings.chunk_tokens, overlap=settings.overlap,
                                encoding=settings.encoding)
        report = build_index(paths, settings.index_dir, embedder=_embedder(args, settings.model), options=options,
                             faiss_factory=args.faiss_factory, progress=_progress(args))
    seconds = time.perf_counter() - started
    summary = {
        "index": str(settings.index_dir),
        "action": action,
        "documents": report.manifest.counts["documents"],
        "chunks": report.manifest.counts["chunks"],
        "embedded_chunks": report.embedded_chunks,
        "added": list(report.added),
        "updated": list(report.updated),
        "unchanged": list(report.unchanged),
        "removed": list(report.removed),
        "failures": [{"path": f.path, "reason": f.reason} for f in report.failures],
        "model": report.manifest.model_id,
        "faiss": report.manifest.faiss_factory,
        "seconds": round(seconds, 2),
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        for f in report.failures:
            print(f"error: {f.path}: {f.reason}", file=sys.stderr)
        print(f"index     {summary['index']}")
        print(f"model     {summary['model']}   faiss {summary['faiss']}")
        print(f"contents  {summary['documents']} documents, {summary['chunks']} chunks "
              f"({summary['embedded_chunks']} embedded now) in {summary['seconds']} s")
        for key in ("added", "updated", "unchanged", "removed"):
            if summary[key]:
                print(f"{key:<9} {', '.join(summary[key])}")
    return 1 if report.failures else 0


def _model_arg(model_id: str) -> str:
    """The --model value that reproduces an index's recorded model id."""
    from policybot.index.embedding import model_spec_for_id

    return model_spec_for_id(model_id)


def _usage(message: str) -> Exception:
    from policybot.bot.cli import CommandError

    return CommandError(message)


@register
def _register_index(sub: Any) -> None:
    p = sub.add_parser(
        "index",
        help="build or update the search index (default: the bundled corpus)",
        description="policybot index [PATH...]         build an index from files or folders (replaces it)\n"
        "policybot index add PATH...       embed only new or changed documents\n"
        "policybot index remove DOC...     remove documents by id",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders; or 'add PATH...' / 'remove DOC...'")
    p.add_argument("--out", "--index", dest="out", type=Path, metavar="DIR",
                   help="index folder (default: the user data folder)")
    _add_model_flags(p)
    p.add_argument("--faiss-factory", default="Flat", metavar="SPEC",
                   help="FAISS index type, e.g. Flat (default), HNSW32, IVF256,Flat, IVF1024,PQ32")
    p.add_argument("--chunk-tokens", type=int, metavar="N", help="token budget per chunk")
    p.add_argument("--overlap", type=int, metavar="N", help="overlap between chunks, in tokens of whole sentences")
    p.add_argument("--encoding", metavar="NAME", help="tiktoken encoding for token budgets (cl100k_base)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=cmd_index)


# --------------------------------------------------------------------------- search
def open_retriever(settings: Any, args: argparse.Namespace, *, build_if_missing: bool = False) -> Any:
    """Load the index (building the default one first if asked) and its embedder."""
    from policybot.index.retriever import Retriever
    from policybot.index.store import IndexNotFoundError, load_index, read_manifest

    try:
        manifest = read_manifest(settings.index_dir)
    except IndexNotFoundError:
        if not build_if_missing:
            raise
        from policybot.index.builder import build_index
        from policybot.ingest.pipeline import IngestOptions, default_corpus_dir

        print(f"no index at {settings.index_dir}; building one from the bundled corpus…", file=sys.stderr)
        options = IngestOptions(chunk_tokens=settings.chunk_tokens, overlap=settings.overlap,
                                encoding=settings.encoding)
        build_index([default_corpus_dir()], settings.index_dir, embedder=_embedder(args, settings.model),
                    options=options, progress=sys.stderr.isatty())
        manifest = read_manifest(settings.index_dir)
    model = getattr(args, "model", None) or _model_arg(manifest.model_id)
    return Retriever(load_index(settings.index_dir), _embedder(args, model))


def cmd_search(args: argparse.Namespace) -> int:
    settings = _settings(args, index_dir=args.index, model=args.model)
    retriever = open_retriever(settings, args)
    started = time.perf_counter()
    hits = retriever.search(args.question, k=args.k, mode=args.mode,
                            doc_ids=args.doc or None)
    ms = (time.perf_counter() - started) * 1000
    if args.json:
        print(json.dumps({
            "question": args.question, "mode": args.mode, "ms": round(ms, 1),
            "hits": [{"rank": i, "chunk_id": h.chunk.id, "doc_id": h.chunk.doc_id, "section": list(h.chunk.section),
                      "score": round(h.score, 6), "retrievers": list(h.retrievers), "ranks": h.ranks,
                      "start": h.chunk.start, "end": h.chunk.end, "text": h.chunk.text}
                     for i, h in enumerate(hits, start=1)],
        }, ensure_ascii=False))
        return 0
    for i, h in enumerate(hits, start=1):
        found = ", ".join(f"{name} #{rank}" for name, rank in h.ranks.items())
        section = " › ".join(h.chunk.section) or "(opening)"
        print(f"{i:>2}. {h.score:.4f}  [{found}]  {h.chunk.id}  {section}")
        print("    " + h.chunk.text.replace("\n", " ")[:160])
    print(f"({len(hits)} hits in {ms:.0f} ms, mode {args.mode})", file=sys.stderr)
    return 0


@register
def _register_search(sub: Any) -> None:
    p = sub.add_parser("search", help="show the passages that match a question, ranked",
                       description="Rank indexed passages for QUESTION with dense, BM25 or hybrid retrieval.")
    p.add_argument("question", metavar="QUESTION")
    p.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    p.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid", help="retriever (hybrid)")
    p.add_argument("--doc", action="append", metavar="DOC", help="only search this document (repeatable)")
    p.add_argument("--index", type=Path, metavar="DIR", help="index folder")
    p.add_argument("--model", metavar="M", help="embedding model (default: the one the index was built with)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_search)


# --------------------------------------------------------------------------- model
def cmd_model(args: argparse.Namespace) -> int:
    from policybot.index.model_export import export_bundled_model

    started = time.perf_counter()
    path = export_bundled_model(Path(args.dir))
    print(f"exported the bundled multilingual-e5-small to {path} in {time.perf_counter() - started:.1f} s")
    print(f"use it with: policybot index --model {path}")
    return 0


@register
def _register_model(sub: Any) -> None:
    p = sub.add_parser("model", help="export the bundled embedding model as a sentence-transformers folder")
    msub = p.add_subparsers(dest="model_command", metavar="ACTION", required=True)
    e = msub.add_parser("export", help="write the model folder to DIR")
    e.add_argument("dir", metavar="DIR")
    e.set_defaults(func=cmd_model)


@register
def _register_serve(sub: Any) -> None:
    from policybot.bot.serve_command import register_serve

    register_serve(sub)


# --------------------------------------------------------------------------- ask
def _print_answer(answer: Any, *, verbose: bool) -> None:
    print(answer.text)
    items = answer.related if answer.abstained else answer.citations
    if items:
        print("\nRelated reading:" if answer.abstained else "\nSources:")
    for c in items:
        section = " › ".join(c.section) or c.doc_id
        print(f"  [{c.n}] {section}: {c.quote}")
    if verbose and answer.notes:
        print("\nnotes: " + "; ".join(answer.notes))
    print()


def cmd_ask(args: argparse.Namespace) -> int:
    from policybot.bot.service import Bot, QuestionError

    settings = _settings(args, index_dir=args.index, k=args.k, llm=args.llm)
    questions: list[str] = list(args.questions)
    from_stdin = not questions
    if from_stdin and sys.stdin.isatty():
        print("type a question per line; Ctrl-D ends", file=sys.stderr)
    bot = Bot.from_settings(settings, build_if_missing=args.index is None, args=args)
    failed = 0

    def lines() -> Any:
        if not from_stdin:
            yield from questions
            return
        for raw in sys.stdin:
            yield raw.rstrip("\n")

    for question in lines():
        if from_stdin and not question.strip():
            continue
        try:
            started = time.perf_counter()
            answer = bot.answer(question, k=settings.k, use_llm=None if settings.llm else False)
            ms = (time.perf_counter() - started) * 1000
        except QuestionError as exc:
            failed += 1
            if args.json:
                print(json.dumps({"question": question, "error": str(exc)}, ensure_ascii=False))
            else:
                print(f"error: {exc}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        else:
            _print_answer(answer, verbose=args.verbose)
            if args.verbose:
                print(f"({ms:.0f} ms)", file=sys.stderr)
    return 1 if failed else 0


@register
def _register_ask(sub: Any) -> None:
    p = sub.add_parser("ask", help="answer questions with cited source sentences",
                       description="Answer each QUESTION (or each line of standard input) from the index, "
                       "citing the sentences used; says so when the documents do not tell.")
    p.add_argument("questions", nargs="*", metavar="QUESTION")
    p.add_argument("--json", action="store_true", help="one JSON object per question (see README for the schema)")
    p.add_argument("-k", "--k", type=int, dest="k", metavar="N", help="passages to read per question (default 6)")
    p.add_argument("--llm", metavar="MODEL", help="let an LLM word the answer (litellm model string or base URL)")
    p.add_argument("--index", type=Path, metavar="DIR", help="index folder (default: built from the bundled corpus)")
    p.add_argument("--model", metavar="M", help="embedding model (default: the one the index was built with)")
    p.add_argument("-v", "--verbose", action="store_true", help="show notes and timing")
    p.set_defaults(func=cmd_ask)


@register
def _register_eval(sub: Any) -> None:
    from policybot.bot.eval_command import register_eval

    register_eval(sub)

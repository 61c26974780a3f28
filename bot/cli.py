"""The `policybot` command line.

Only argparse and the standard library are imported at the top, so `--help` is
instant; each command imports what it needs. Library errors are turned into a
one-line message and a non-zero exit here, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """A problem the user can fix; the message says how."""


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False))


# --------------------------------------------------------------------------- ingest
def cmd_ingest(args: argparse.Namespace) -> int:
    from policybot.bot.commands import _settings
    from policybot.ingest.files import atomic_write_text
    from policybot.ingest.pipeline import IngestOptions, default_corpus_dir, ingest_paths

    settings = _settings(args, chunk_tokens=args.chunk_tokens, overlap=args.overlap, encoding=args.encoding)
    paths = [Path(p) for p in args.paths] or [default_corpus_dir()]
    options = IngestOptions(chunk_tokens=settings.chunk_tokens, overlap=settings.overlap, encoding=settings.encoding)
    result = ingest_paths(paths, options=options, progress=not args.json and sys.stderr.isatty())
    if args.out:
        lines = "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in result.chunks)
        atomic_write_text(Path(args.out), lines)
    summary = result.summary()
    if args.json:
        _print_json(summary)
    else:
        for f in result.failures:
            print(f"error: {f.path}: {f.reason}", file=sys.stderr)
        t = summary["tokens"]
        assert isinstance(t, dict)
        print(f"documents  {summary['documents']}   chunks  {summary['chunks']}   failed  {summary['failed']}")
        print(
            f"tokens ({settings.encoding})  total {t['total']}  min {t['min']}  median {t['median']}  "
            f"mean {t['mean']}  max {t['max']}"
        )
        print(f"boilerplate lines dropped  {summary['boilerplate_lines_dropped']}")
        if args.verbose:
            for doc in result.documents:
                for line in doc.dropped_lines:
                    print(f"  dropped [{doc.doc_id}] ({line.reason}) {line.text}")
        if args.out:
            print(f"chunks written to {args.out}")
    if not result.documents and not result.failures:
        print("error: no supported files found (txt, md, html, pdf, docx)", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_FAILED if result.failures else EXIT_OK


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policybot",
        description="Answer questions about Chinese policy documents, offline, citing the sentences used.",
        epilog="Settings come from flags, then POLICYBOT_* environment variables, then a TOML file "
        "(--config, POLICYBOT_CONFIG, or policybot.toml in the user config folder).",
    )
    parser.add_argument("--config", type=Path, help="TOML settings file")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "ingest",
        help="clean and chunk documents (txt, md, html; pdf and docx with extras)",
        description="Load files or folders (recursively), drop page boilerplate, find the structure "
        "and split into chunks. With no PATH, the bundled corpus.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: the bundled corpus)")
    p.add_argument("--out", type=Path, help="write the chunks as JSON Lines to FILE")
    p.add_argument("--chunk-tokens", type=int, metavar="N", help="token budget per chunk (default 160)")
    p.add_argument("--overlap", type=int, metavar="N", help="tokens of whole sentences repeated between chunks")
    p.add_argument("--encoding", metavar="NAME", help="tiktoken encoding that measures tokens (cl100k_base)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("-v", "--verbose", action="store_true", help="list every dropped boilerplate line")
    p.set_defaults(func=cmd_ingest)

    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list[Callable[[Any], None]]:
    """Commands defined in their own modules (kept out of this file to keep it small)."""
    from policybot.bot import commands

    return commands.REGISTRY


def _error_types() -> tuple[type[BaseException], ...]:
    """Library exceptions whose messages are meant for the user."""
    from policybot.bot.settings import SettingsError
    from policybot.ingest.chunker import ChunkingError
    from policybot.ingest.tokens import TokenizerUnavailableError

    types: list[type[BaseException]] = [CommandError, SettingsError, ChunkingError, TokenizerUnavailableError]
    from policybot.bot import commands

    types.extend(commands.user_error_types())
    return tuple(types)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # Positionals after options ("index add --out DIR file.txt") land here; flags never should.
        unknown = [e for e in extra if e.startswith("-")]
        if unknown or not hasattr(args, "paths"):
            parser.error(f"unrecognized arguments: {' '.join(unknown or extra)}")
        args.paths = [*args.paths, *extra]
    if args.version:
        from importlib.metadata import version

        print(f"policybot {version('policybot')}")
        return EXIT_OK
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except _error_types() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())

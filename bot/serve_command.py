"""`policybot serve`: the chat, the embeddable widget and the REST API on one port."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any


def cmd_serve(args: argparse.Namespace) -> int:
    from policybot.bot.cli import CommandError
    from policybot.bot.commands import _settings
    from policybot.bot.server import ServeError, bind_socket, create_app, make_server, normalize_origins, url_for
    from policybot.bot.service import Bot
    from policybot.index.store import IndexNotFoundError, read_manifest

    started = time.perf_counter()
    settings = _settings(args, host=args.host, port=args.port, index_dir=args.index, llm=args.llm,
                         allow_origins=tuple(args.allow_origin) if args.allow_origin else None,
                         rate_limit=args.rate_limit, k=args.k)
    report = Path(args.eval_report).expanduser().resolve() if args.eval_report else None
    if report is not None and not report.is_file():
        raise CommandError(f"--eval-report {args.eval_report}: no such file; write one with policybot eval "
                           "(its HTML report option) first")
    try:
        normalize_origins(settings.allow_origins)
        sock = bind_socket(settings.host, settings.port)  # before the slow part: fail fast on a taken port
    except ServeError as exc:
        raise CommandError(str(exc)) from None
    try:
        read_manifest(settings.index_dir)
        cold = False
    except IndexNotFoundError:
        cold = True
    # Gradio takes seconds to import; do it while the model loads (torch releases the GIL).
    preload = threading.Thread(target=_preload_ui, daemon=True, name="preload-gradio")
    preload.start()
    bot = Bot.from_settings(settings, build_if_missing=True)
    preload.join()
    app = create_app(bot, settings, eval_report=report)
    url = url_for(settings.host, sock.getsockname()[1])

    def ready() -> None:
        seconds = time.perf_counter() - started
        how = "cold: built the index first" if cold else "warm: index already built"
        print(f"policybot ready in {seconds:.1f} s ({how}; index {bot.ready_seconds or 0:.1f} s)", file=sys.stderr)
        print(f"  chat       {url}", file=sys.stderr)
        print(f"  widget     {url}embed/   (how to embed: {url}embed/howto)", file=sys.stderr)
        print(f"  REST API   {url}api/ask  (docs: {url}docs)", file=sys.stderr)
        if report is not None:
            print(f"  eval       {url}eval", file=sys.stderr)
        print(f"serving on {url}  (Ctrl-C stops)", flush=True)

    server = make_server(app, log_level=args.log_level, on_ready=ready)
    server.run(sockets=[sock])
    return 0


def _preload_ui() -> None:
    try:
        import policybot.bot.chat_ui  # noqa: F401  (imports gradio)
    except Exception:  # any real problem resurfaces, with its traceback, when create_app imports it
        pass


def register_serve(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the chat, the embeddable widget and the REST API",
        description="Serve the chat at /, an embeddable widget at /embed (how-to at /embed/howto), "
        "the REST API at /api/ask and /api/health (docs at /docs). With no index yet, "
        "builds one from the bundled corpus first.",
    )
    p.add_argument("--host", metavar="HOST", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    p.add_argument("--port", type=int, metavar="PORT", help="port (default 7860; 0 for any free port)")
    p.add_argument("--index", type=Path, metavar="DIR", help="index folder (default: the user data folder)")
    p.add_argument("--llm", metavar="MODEL", help="litellm model string for LLM-written answers, e.g. ollama/qwen2.5")
    p.add_argument("--allow-origin", action="append", metavar="ORIGIN",
                   help="an origin (https://site.example) allowed to embed the widget and call the API "
                   "from a browser (repeatable)")
    p.add_argument("--rate-limit", type=int, metavar="N", help="questions per minute per client address (default 60)")
    p.add_argument("-k", type=int, metavar="N", help="passages retrieved per question (default 6)")
    p.add_argument("--eval-report", metavar="FILE", help="an HTML evaluation report to show at /eval")
    p.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"),
                   help="server log level (default warning)")
    p.set_defaults(func=cmd_serve)

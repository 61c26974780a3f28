"""The web server: one FastAPI app with the REST API, the chat at `/` and the widget at `/embed`.

`create_app(bot, settings)` takes any object with the Bot's methods (`answer`, `stream`,
`health`, `llm_available`), so tests inject a fake one and start in milliseconds.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from policybot.bot.settings import Settings
from policybot.eval.html_report import filter_script_hash

# Gradio reads these at import: no phoning home, no usage analytics, from an offline tool.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GRADIO_DO_NOT_TRACK", "True")


class ServeError(Exception):
    """The server cannot start as configured; the message says what to change."""


def normalize_origins(origins: tuple[str, ...]) -> tuple[str, ...]:
    """Check embedding/CORS origins; browsers compare them exactly, so a stray slash would silently fail.

    >>> normalize_origins(("https://a.example/", "http://localhost:8000"))
    ('https://a.example', 'http://localhost:8000')
    """
    out = []
    for raw in origins:
        o = raw.strip().rstrip("/")
        if o != "*" and not re.fullmatch(r"https?://[^/\s'\";,]+", o):
            raise ServeError(f"allowed origin {raw!r} is not an origin; write it as scheme://host[:port], "
                             "e.g. https://intranet.example or http://localhost:8000")
        out.append(o)
    return tuple(dict.fromkeys(out))


def _blocked_paths(settings: Settings, eval_report: Path | None) -> list[str]:
    """Folders Gradio must never serve, even if a future component would point into them."""
    from platformdirs import user_cache_dir, user_data_dir

    from policybot.index.paths import model_cache_dir

    paths = [settings.index_dir, model_cache_dir(), Path(user_data_dir("policybot")), Path(user_cache_dir("policybot"))]
    if eval_report is not None:  # served by our own /eval route only
        paths.append(eval_report)
    return sorted({str(Path(p).expanduser().resolve()) for p in paths})


def create_app(bot: Any, settings: Settings, *, eval_report: Path | None = None, ui: bool = True) -> FastAPI:
    """The ASGI app. `ui=False` leaves out the Gradio pages (API only)."""
    from policybot.bot.api import api_router
    from policybot.bot.embed_page import howto_csp, howto_html
    from policybot.bot.limits import ConcurrencyGate, RateLimiter
    from policybot.bot.middleware import BodyLimitMiddleware, RateLimitMiddleware, SecurityHeadersMiddleware

    settings = replace(settings, allow_origins=normalize_origins(settings.allow_origins))
    app = FastAPI(
        title="policybot",
        description="Answers questions about Wuhan's future-industries plan, in Chinese or English, citing the "
        "exact source sentences. The chat is at `/`, an embeddable widget at `/embed`.",
        version=_version(),
        docs_url="/docs",
        redoc_url=None,
    )
    gate = ConcurrencyGate(settings.max_concurrency, settings.max_queue)
    app.state.bot, app.state.gate = bot, gate
    app.include_router(api_router(bot, gate))

    loader = _gradio_loader() if ui else None

    @app.get("/embed/howto", response_class=HTMLResponse, include_in_schema=False)
    async def embed_howto(request: Request) -> HTMLResponse:
        base = str(request.base_url).rstrip("/")
        page = howto_html(base, settings.allow_origins, has_loader=loader is not None)
        return HTMLResponse(page, headers={"Content-Security-Policy": howto_csp(), "Cache-Control": "no-cache"})

    if loader is not None:
        @app.get("/embed/gradio.js", include_in_schema=False)
        async def embed_loader() -> Response:
            return Response(loader, media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    if eval_report is not None:
        report = eval_report

        @app.get("/eval", response_class=HTMLResponse, include_in_schema=False)
        async def eval_page() -> Response:
            # Read per request so a fresh `policybot eval --report` shows without a restart.
            try:
                html = report.read_text(encoding="utf-8")
            except OSError:
                return PlainTextResponse(f"no evaluation report at {report.name}; run policybot eval to write one",
                                         status_code=404)
            # The report is self-contained: nothing fetched, one inline filter script allowed by its hash.
            return HTMLResponse(html, headers={"Content-Security-Policy":
                                               "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                               f"script-src {filter_script_hash()}"})

    if ui:
        _mount_chat(app, bot, settings, eval_report=eval_report)
    else:
        @app.get("/", include_in_schema=False)
        async def root() -> RedirectResponse:
            return RedirectResponse("/docs")

    # Added last = outermost: security headers wrap everything, including 413/429 answers;
    # CORS sits outside the limits so a browser can read a 429. Gradio sees this
    # CORSMiddleware and drops its own, so one origin policy covers the API and the pages.
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(RateLimitMiddleware, limiter=RateLimiter(settings.rate_limit))
    # X-Gradio-User is sent by the <gradio-app> web component's client on every event.
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.allow_origins), allow_credentials=False,
                       allow_methods=["GET", "POST"], allow_headers=["Content-Type", "X-Gradio-User"], max_age=600)
    app.add_middleware(SecurityHeadersMiddleware, allow_origins=settings.allow_origins)
    return app


def _mount_chat(app: Any, bot: Any, settings: Settings, *, eval_report: Path | None) -> None:
    import gradio as gr

    from policybot.bot.chat_ui import ChatOptions, asset_text, build_chat, head_html, theme

    common = {
        "theme": theme(),
        "css": asset_text("chat.css"),
        "head": head_html(),
        "footer_links": [],
        "run_history": False,
        "allowed_paths": [],
        "blocked_paths": _blocked_paths(settings, eval_report),
        "max_file_size": 16 * 1024,
        "show_error": True,
        "ssr_mode": False,
        "enable_monitoring": False,
        "mcp_server": False,
        "pwa": False,
    }
    llm = settings.llm if getattr(bot, "llm_available", False) else None
    for path, compact in (("/embed", True), ("/", False)):  # "/" last: a mount there catches everything
        blocks = build_chat(bot, ChatOptions(compact=compact, k=settings.k, llm_name=llm,
                                             report_link=eval_report is not None))
        blocks.queue(default_concurrency_limit=settings.max_concurrency, max_size=settings.max_queue)
        gr.mount_gradio_app(app, blocks, path=path, **common)


def _gradio_loader() -> str | None:
    import gradio

    from policybot.bot.embed_page import loader_js

    return loader_js(Path(gradio.__file__).parent / "templates" / "frontend")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("policybot")
    except PackageNotFoundError:
        return "0+unknown"


# --------------------------------------------------------------------------- running
def bind_socket(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves, so a taken port is a clear error, and port 0 picks one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
                         "choose another with --port, or --port 0 for any free one") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_for(host: str, port: int) -> str:
    """The address to print. `url_for("0.0.0.0", 80)` → `'http://127.0.0.1:80/'` (any-address is not a URL)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}/"


def make_server(app: Any, *, log_level: str = "warning", on_ready: Any = None) -> Any:
    """A uvicorn Server for `app` that calls `on_ready()` once it accepts connections."""
    import uvicorn

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and on_ready is not None:
                on_ready()

    config = uvicorn.Config(app, log_level=log_level, access_log=False, timeout_graceful_shutdown=3,
                            limit_concurrency=1000, h11_max_incomplete_event_size=64 * 1024)
    return _Server(config)


@dataclass
class BackgroundServer:
    """A server running in a thread (for tests and notebooks); `stop()` shuts it down."""

    url: str
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_background(app: Any, *, host: str = "127.0.0.1", port: int = 0, timeout: float = 30.0) -> BackgroundServer:
    """Serve `app` from a daemon thread on `host:port` (0 = a free port) and wait until it is up."""
    sock = bind_socket(host, port)
    actual = sock.getsockname()[1]
    ready = threading.Event()
    server = make_server(app, on_ready=ready.set)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"policybot:{actual}")
    thread.start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.05):
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ServeError(f"the server on {host}:{actual} did not start within {timeout:.0f} s")
    return BackgroundServer(url_for(host, actual), server, thread)

"""ASGI middleware for the web server: security headers, body-size limit, per-client rate limit.

Written as plain ASGI callables rather than Starlette's BaseHTTPMiddleware, which
buffers responses and would break Gradio's server-sent event streams.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from policybot.bot.limits import RateLimiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 16 * 1024
# Requests that cost an answer: the REST call and Gradio's ways of starting an event.
ASK_PATH_SUFFIXES = ("/api/ask", "/gradio_api/queue/join", "/gradio_api/run/predict")
ASK_PATH_MARKERS = ("/gradio_api/call/", "/gradio_api/run/")


def frame_ancestors(path: str, allow_origins: tuple[str, ...]) -> str:
    """The CSP `frame-ancestors` source list for a path: only the widget may be framed elsewhere.

    >>> frame_ancestors("/embed/", ("https://a.example",))
    "'self' https://a.example"
    >>> frame_ancestors("/", ("https://a.example",))
    "'self'"
    """
    if path == "/embed" or path.startswith("/embed/"):
        return " ".join(["'self'", *allow_origins])
    return "'self'"


def is_ask_request(method: str, path: str) -> bool:
    """Whether a request asks the bot a question (and so counts against the rate limit).

    >>> is_ask_request("POST", "/embed/gradio_api/queue/join"), is_ask_request("GET", "/api/health")
    (True, False)
    """
    if method != "POST":
        return False
    return path.endswith(ASK_PATH_SUFFIXES) or any(m in path for m in ASK_PATH_MARKERS)


async def send_json(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class SecurityHeadersMiddleware:
    """Adds nosniff, a referrer policy and CSP frame-ancestors to every response.

    Pages that set their own Content-Security-Policy (the how-to page) keep it; the
    frame-ancestors directive is appended when missing.
    """

    def __init__(self, app: ASGIApp, *, allow_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        self.allow_origins = allow_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ancestors = frame_ancestors(scope.get("path", "/"), self.allow_origins)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"x-content-type-options", b"referrer-policy", b"x-frame-options")]
                csp = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-security-policy"), "")
                headers = [(k, v) for k, v in headers if k.lower() != b"content-security-policy"]
                if "frame-ancestors" not in csp:
                    csp = f"{csp.rstrip('; ')}; frame-ancestors {ancestors}".lstrip("; ")
                headers += [
                    (b"content-security-policy", csp.encode("latin-1")),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"strict-origin-when-cross-origin"),
                ]
                if ancestors == "'self'":  # for browsers that predate frame-ancestors
                    headers.append((b"x-frame-options", b"SAMEORIGIN"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Refuses request bodies over `max_bytes` with 413, whether or not Content-Length is sent.

    The body is read up front (it is small by definition) and replayed to the app.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                await send_json(send, 400, "invalid Content-Length header")
                return
            if too_big:
                await self._refuse(send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        await send_json(send, 413, f"request body too large; the limit is {self.max_bytes} bytes",
                        {"connection": "close"})


class RateLimitMiddleware:
    """Counts question-asking requests per client address; over the limit, 429 with Retry-After.

    The address is the TCP peer; behind a reverse proxy run uvicorn with
    --forwarded-allow-ips so that it reflects the real client.
    """

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.limiter.enabled and is_ask_request(scope["method"], scope.get("path", "")):
            client = scope.get("client") or ("unknown", 0)
            wait = self.limiter.check(str(client[0]))
            if wait:
                await send_json(send, 429, f"too many questions: the limit is {self.limiter.per_minute} per minute "
                                f"per client; try again in {wait} s", {"retry-after": str(wait)})
                return
        await self.app(scope, receive, send)

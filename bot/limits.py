"""Admission control for the web layer: a per-client rate limit and a bounded concurrency gate.

Both are plain objects with no web framework in them, so they are tested directly;
bot/middleware.py and bot/api.py put them in front of the bot.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

WINDOW_SECONDS = 60.0
# Past this many tracked clients the idle ones are forgotten, so a flood of
# spoofed or rotating addresses cannot grow memory without bound.
MAX_TRACKED_CLIENTS = 10_000


class BusyError(Exception):
    """Every answering slot is taken and the waiting line is full; the client should retry shortly."""


class RateLimiter:
    """At most `per_minute` admissions per key in any sliding 60-second window.

    >>> clock = iter([0.0, 1.0, 2.0, 61.5]).__next__
    >>> rl = RateLimiter(2, clock=clock)
    >>> rl.check("a"), rl.check("a"), rl.check("a"), rl.check("a")
    (0, 0, 58, 0)

    `check` returns 0 when admitted, else the whole seconds to wait.
    """

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def check(self, key: str) -> int:
        if not self.enabled:
            return 0
        now = self._clock()
        stamps = self._seen.get(key)
        if stamps is None:
            if len(self._seen) >= MAX_TRACKED_CLIENTS:
                self._forget_idle(now)
            stamps = self._seen[key] = deque()
        while stamps and now - stamps[0] >= WINDOW_SECONDS:
            stamps.popleft()
        if len(stamps) >= self.per_minute:
            return max(1, math.ceil(WINDOW_SECONDS - (now - stamps[0])))
        stamps.append(now)
        return 0

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, s in self._seen.items() if not s or now - s[-1] >= WINDOW_SECONDS]
        for k in idle:
            del self._seen[k]
        if len(self._seen) >= MAX_TRACKED_CLIENTS:  # all active: drop the oldest half rather than grow
            for k in sorted(self._seen, key=lambda k: self._seen[k][-1])[: MAX_TRACKED_CLIENTS // 2]:
                del self._seen[k]


class ConcurrencyGate:
    """At most `limit` holders at once and at most `queue` waiters; beyond that, BusyError.

    Used from one event loop; the check-then-acquire below cannot interleave because
    nothing awaits between them.
    """

    def __init__(self, limit: int, queue: int) -> None:
        if limit < 1:
            raise ValueError(f"max_concurrency must be at least 1 (got {limit})")
        self.limit = limit
        self.queue = max(0, queue)
        self._sem: asyncio.Semaphore | None = None
        self.waiting = 0
        self.running = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        # Created lazily so the semaphore belongs to the server's running loop.
        sem = self._sem = self._sem or asyncio.Semaphore(self.limit)
        if sem.locked():
            if self.waiting >= self.queue:
                raise BusyError(f"the server is busy ({self.running} answering, {self.waiting} waiting); "
                                "try again in a moment")
            self.waiting += 1
            try:
                await sem.acquire()
            finally:
                self.waiting -= 1
        else:
            await sem.acquire()
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            sem.release()

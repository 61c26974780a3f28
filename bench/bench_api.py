"""Benchmark `POST /api/ask`: latency p50/p95, throughput, errors and server memory under 1, 8, 32 clients.

Starts the real server itself on loopback (`policybot serve --port P --index DIR`), as its
own process so its memory can be read, then drives it with concurrent clients that each
ask, wait for the answer and ask again, for --seconds at each level.

    python bench/bench_api.py                      # 30 s per level, index built in a temp folder
    python bench/bench_api.py --seconds 10 --index ~/policybot-index --clients 1,8,32

The server's per-client rate limit is switched off (all clients share 127.0.0.1);
its concurrency limit and queue are the configured ones (POLICYBOT_MAX_CONCURRENCY,
POLICYBOT_MAX_QUEUE), so busy answers (503) show up once more clients wait than the queue holds.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

QUESTIONS = (
    "Which districts host brain-computer interface work?",
    "哪些区发展脑机接口?",
    "What is Wuhan's revenue target for 2027?",
    "武汉基金和江城基金分别聚焦什么阶段?",
    "Where is the Optics Valley?",
    "新型储能有哪些重点方向?",
)


@dataclass
class LevelResult:
    clients: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    rss_mib: float | None = None
    peak_rss_mib: float | None = None

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile. `percentile([1, 2, 3, 4], 50)` → 2."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def read_rss_mib(pid: int) -> tuple[float | None, float | None]:
    """(current, peak) resident memory of a process in MiB, from /proc (Linux); None elsewhere."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None, None
    values = {}
    for line in status.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS"), values.get("VmHWM")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(index: Path, port: int, log: Path) -> tuple[subprocess.Popen[bytes], float]:
    """Start `policybot serve` and wait until it answers; returns the process and seconds to ready."""
    cmd = [sys.executable, "-m", "policybot.bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--index", str(index), "--rate-limit", "0"]
    started = time.perf_counter()
    out = log.open("wb")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}/api/health"
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with code {proc.returncode}; its output:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return proc, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        if time.perf_counter() - started > 1800:
            proc.terminate()
            raise SystemExit("the server did not come up within 30 minutes")
        time.sleep(0.5)


async def run_level(base: str, clients: int, seconds: float, pid: int) -> LevelResult:
    result = LevelResult(clients, seconds)
    questions = itertools.cycle(QUESTIONS)
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                try:
                    r = await client.post("/api/ask", json={"question": next(questions)})
                except httpx.HTTPError as exc:
                    result.errors[type(exc).__name__] += 1
                    continue
                if r.status_code == 200:
                    result.latencies_ms.append((time.perf_counter() - t) * 1000)
                else:
                    result.errors[str(r.status_code)] += 1
                    if r.status_code in (429, 503):  # honour Retry-After, as a polite client would
                        await asyncio.sleep(min(float(r.headers.get("retry-after", "1")), 5))

        await asyncio.gather(*(worker() for _ in range(clients)))
    result.rss_mib, result.peak_rss_mib = read_rss_mib(pid)
    return result


def format_table(results: list[LevelResult]) -> str:
    head = f"{'clients':>7} {'answers':>8} {'ans/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7} {'503':>5} " \
           f"{'RSS MiB':>8} {'peak MiB':>9}"
    lines = [head, "-" * len(head)]
    for r in results:
        busy = r.errors.get("503", 0)
        rss = f"{r.rss_mib:.0f}" if r.rss_mib is not None else "n/a"
        peak = f"{r.peak_rss_mib:.0f}" if r.peak_rss_mib is not None else "n/a"
        lines.append(f"{r.clients:>7} {r.ok:>8} {r.ok / r.seconds:>7.1f} {percentile(r.latencies_ms, 50):>8.0f} "
                     f"{percentile(r.latencies_ms, 95):>8.0f} {sum(r.errors.values()):>7} {busy:>5} {rss:>8} {peak:>9}")
    other = Counter[str]()
    for r in results:
        other.update({k: v for k, v in r.errors.items() if k != "503"})
    if other:
        lines.append("other errors: " + ", ".join(f"{k} ×{v}" for k, v in sorted(other.items())))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=30.0, help="duration of each concurrency level (default 30)")
    p.add_argument("--clients", default="1,8,32", help="comma-separated concurrency levels (default 1,8,32)")
    p.add_argument("--index", type=Path, help="index folder (default: build one in a temporary folder)")
    p.add_argument("--port", type=int, help="port (default: a free one)")
    args = p.parse_args(argv)
    levels = [int(c) for c in args.clients.split(",") if c.strip()]

    with tempfile.TemporaryDirectory(prefix="policybot-bench-") as tmp:
        index = args.index or Path(tmp) / "index"
        cold = not (index / "manifest.json").exists()
        port = args.port or free_port()
        log = Path(tmp) / "server.log"
        proc, ready = start_server(index, port, log)
        try:
            base = f"http://127.0.0.1:{port}"
            print(f"server pid {proc.pid} ready in {ready:.1f} s ({'cold: index built' if cold else 'warm'}); "
                  f"{args.seconds:g} s per level", file=sys.stderr)
            httpx.post(f"{base}/api/ask", json={"question": QUESTIONS[0]}, timeout=120)  # warm caches
            results = []
            for n in levels:
                print(f"  {n} client(s)…", file=sys.stderr)
                results.append(asyncio.run(run_level(base, n, args.seconds, proc.pid)))
            health = httpx.get(f"{base}/api/health").json()
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"POST /api/ask   model {health.get('model')}   {health.get('chunks')} chunks   "
          f"max_concurrency {health['busy']['max_concurrency']}   max_queue {health['busy']['max_queue']}")
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

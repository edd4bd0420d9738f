"""Benchmark the fetcher: one cycle over N local feeds, then a conditional (all-304) cycle.

    python bench/bench_fetch.py [--feeds 1000] [--concurrency 50] [--latency 0.0]

The feeds are served by aiohttp.web in a separate process, so the server does not compete with
the fetcher for the GIL. `--latency` makes each answer wait that long, like a distant server.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing as mp
import socket
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.fetch import Fetcher
from monitor.records import FetchResult, Validators

USER_AGENT = "humanitarian-monitor-bench/0.1 (+https://example.org/monitor)"


def _feed(i: int) -> bytes:
    items = "".join(
        f"<item><title>Report {i}-{k}: aid convoy reaches district {k}</title>"
        f"<link>https://example.org/{i}/{k}</link><guid>{i}-{k}</guid>"
        f"<description>Update {k} from feed {i}: roads reopened, clinics restocked.</description>"
        "</item>"
        for k in range(10)
    )
    text = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {i}</title>{items}'
    return (text + "</channel></rss>").encode()


def _serve(feeds: int, latency: float, conn: Connection) -> None:
    """Child process: serve /feed/<i>.xml with ETags until the parent sends a message."""
    bodies = [_feed(i) for i in range(feeds)]
    etags = [f'"{hashlib.sha1(b).hexdigest()}"' for b in bodies]

    async def handle(request: web.Request) -> web.StreamResponse:
        i = int(request.match_info["i"])
        if latency:
            await asyncio.sleep(latency)
        if request.headers.get("If-None-Match") == etags[i]:
            return web.Response(status=304, headers={"ETag": etags[i]})
        return web.Response(
            body=bodies[i], content_type="application/rss+xml", headers={"ETag": etags[i]}
        )

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{i}.xml", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(4096)  # room for a thousand connections arriving at once
        await web.SockSite(runner, sock).start()
        conn.send(sock.getsockname()[1])
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # the stop message
        await runner.cleanup()

    asyncio.run(main())


async def _cycle(
    fetcher: Fetcher, urls: list[str], validators: list[Validators]
) -> tuple[float, list[FetchResult]]:
    start = time.perf_counter()
    results = await asyncio.gather(
        *(fetcher.fetch(u, v) for u, v in zip(urls, validators, strict=True))
    )
    return time.perf_counter() - start, list(results)


def _line(name: str, seconds: float, results: list[FetchResult]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    n = len(results)
    parts = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    return f"{name:<12} {n} feeds in {seconds:.3f} s = {n / seconds:,.0f} feeds/s ({parts})"


async def _bench(port: int, feeds: int, concurrency: int) -> int:
    urls = [f"http://127.0.0.1:{port}/feed/{i}.xml" for i in range(feeds)]
    async with Fetcher(user_agent=USER_AGENT, concurrency=concurrency) as fetcher:
        t1, first = await _cycle(fetcher, urls, [Validators()] * feeds)
        t2, second = await _cycle(fetcher, urls, [r.validators for r in first])
    print(f"feeds={feeds} concurrency={concurrency}")
    print(_line("cycle 1", t1, first))
    print(_line("cycle 2 (304)", t2, second))
    errors = [r for r in first + second if r.status == "error"]
    print(f"errors={len(errors)}")
    for r in errors[:5]:
        print(f"  {r.url}: {r.error}")
    return 1 if errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per server answer")
    args = parser.parse_args()
    parent, child = mp.Pipe()
    server = mp.Process(target=_serve, args=(args.feeds, args.latency, child), daemon=True)
    server.start()
    try:
        port = parent.recv()
        return asyncio.run(_bench(port, args.feeds, args.concurrency))
    finally:
        parent.send("stop")
        server.join(timeout=5)
        if server.is_alive():
            server.terminate()


if __name__ == "__main__":
    sys.exit(main())

"""How long `monitor run --once` takes over a few hundred local feeds, and its peak memory.

    python bench/bench_run_once.py [--feeds 300] [--items 20]

Serves N RSS feeds of M distinct articles from a local server, runs `monitor run --once` as a
child process twice (the second cycle is all conditional 304s), and prints wall time and peak
resident memory of each run. Alerts go to standard output, which is discarded.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import article_texts  # noqa: E402
from tests.support.feedserver import FeedServer  # noqa: E402
from tests.support.rss import Item, rss  # noqa: E402


def run_once(env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "monitor", "run", "--once"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    took = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return took, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--items", type=int, default=20)
    args = parser.parse_args()
    texts = article_texts(args.feeds * args.items, seed=11)
    with tempfile.TemporaryDirectory() as tmp, FeedServer() as server:
        config = Path(tmp) / "config"
        config.mkdir()
        (config / "rules.yaml").write_text((ROOT / "config" / "rules.yaml").read_text())
        lines = ["feeds:"]
        for f in range(args.feeds):
            items = [
                Item(title, body, f"https://bench.example.org/{f}/{i}")
                for i, (title, body) in enumerate(texts[f * args.items : (f + 1) * args.items])
            ]
            server.set(f"/feed{f}.xml", rss(items))
            lines += [f"  - name: feed {f}", f"    url: {server.url(f'/feed{f}.xml')}"]
        (config / "feeds.yaml").write_text("\n".join(lines) + "\n")
        env = {
            **os.environ,
            "MONITOR_CONFIG_DIR": str(config),
            "MONITOR_DATA_DIR": str(Path(tmp) / "data"),
            "MONITOR_CACHE_DIR": str(ROOT / "data" / "cache"),
            "PYTHONPATH": str(ROOT),
        }
        articles = args.feeds * args.items
        first, rss1 = run_once(env)
        print(
            f"first cycle: {args.feeds} feeds, {articles} new articles: {first:.1f} s "
            f"({articles / first:.0f} articles/s), peak RSS {rss1:.0f} MB"
        )
        second, rss2 = run_once(env)
        print(f"second cycle (all 304): {second:.1f} s, peak RSS {rss2:.0f} MB")


if __name__ == "__main__":
    main()

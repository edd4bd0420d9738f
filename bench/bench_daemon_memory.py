"""Resident memory of the daemon (`monitor run`) over local feeds, sampled while it works.

    python bench/bench_daemon_memory.py [--feeds 100] [--items 20] [--seconds 60]

Serves N feeds whose items change every few seconds (so every poll has new articles to read),
runs the daemon with 5-second intervals, samples VmRSS once a second and prints the figures.
"""

from __future__ import annotations

import argparse
import os
import signal
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


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    texts = article_texts(args.feeds * args.items * 4, seed=5)
    with tempfile.TemporaryDirectory() as tmp, FeedServer() as server:
        config = Path(tmp) / "config"
        config.mkdir()
        (config / "rules.yaml").write_text((ROOT / "config" / "rules.yaml").read_text())
        lines = ["feeds:"]
        for f in range(args.feeds):
            lines += [
                f"  - name: feed {f}",
                f"    url: {server.url(f'/f{f}.xml')}",
                "    interval: 5",
            ]
        (config / "feeds.yaml").write_text("\n".join(lines) + "\n")
        env = {
            **os.environ,
            "MONITOR_CONFIG_DIR": str(config),
            "MONITOR_DATA_DIR": str(Path(tmp) / "data"),
            "MONITOR_CACHE_DIR": str(ROOT / "data" / "cache"),
            "MONITOR_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        generation = 0

        def publish() -> None:
            for f in range(args.feeds):
                start = (generation * args.feeds + f) * args.items % (len(texts) - args.items)
                items = [
                    Item(t, b, f"https://bench.example.org/{generation}/{f}/{i}")
                    for i, (t, b) in enumerate(texts[start : start + args.items])
                ]
                server.set(f"/f{f}.xml", rss(items))

        publish()
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run"], env=env, stdout=subprocess.DEVNULL
        )
        samples = []
        began = time.monotonic()
        while time.monotonic() - began < args.seconds:
            time.sleep(1)
            samples.append(rss_mb(proc.pid))
            if int(time.monotonic() - began) % 15 == 0:
                generation += 1
                publish()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        print(f"feeds: {args.feeds}, {args.seconds} s, exit code {code}")
        print(
            f"RSS after start: {samples[2]:.0f} MB, max: {max(samples):.0f} MB, last: {samples[-1]:.0f} MB"
        )


if __name__ == "__main__":
    main()

"""Measure the store: article commits per second (one alert, two deliveries each), duplicate
rejections per second, and delivery claim + mark throughput, on a SQLite file in a temp folder.

Run from the repository root: PYTHONPATH=. python bench/bench_store.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.dedup import article_keys
from monitor.records import Article
from monitor.store import AlertDraft, Store

T0 = datetime(2024, 5, 7, 9, 0, tzinfo=UTC)
DRAFT = AlertDraft(
    rule_id="bench",
    severity="high",
    cooldown_key="k",
    rule_title="Bench rule",
    sentence="A sentence that matched.",
    terms=("clinic",),
    targets=(("a", "json://***"), ("b", "mailto://***")),
)


def _article(n: int) -> Article:
    return Article(
        feed="bench",
        guid=f"g-{n}",
        link=f"https://bench.example.org/item/{n}?utm_source=rss",
        title=f"Item {n}: a clinic and a water point were damaged overnight",
        summary=f"Local teams counted {n} families who left the area.",
        content="",
        published=T0,
    )


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        articles = [_article(i) for i in range(n)]
        keys = [article_keys(a) for a in articles]

        start = time.perf_counter()
        for a, k in zip(articles, keys, strict=True):
            store.commit_article(
                a, k, fetched_at=T0, alerted=True, alerts=[DRAFT], regions=[], now=T0
            )
        elapsed = time.perf_counter() - start
        print(f"commit_article (1 alert, 2 deliveries): {n / elapsed:8.0f}/s")

        start = time.perf_counter()
        for a, k in zip(articles, keys, strict=True):
            store.commit_article(
                a, k, fetched_at=T0, alerted=True, alerts=[DRAFT], regions=[], now=T0
            )
        elapsed = time.perf_counter() - start
        print(f"duplicate rejected:                     {n / elapsed:8.0f}/s")

        start = time.perf_counter()
        for k in keys:
            store.known(k)
        elapsed = time.perf_counter() - start
        print(f"known() pre-check:                      {n / elapsed:8.0f}/s")

        start = time.perf_counter()
        done = 0
        while jobs := store.claim_deliveries("bench", T0, 60, 50):
            for job in jobs:
                store.mark_sent(job.delivery_id, "bench", T0 + timedelta(seconds=1))
                done += 1
        elapsed = time.perf_counter() - start
        print(
            f"claim (batches of 50) + mark_sent:      {done / elapsed:8.0f}/s ({done} deliveries)"
        )
        store.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)

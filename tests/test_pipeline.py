"""The pipeline over real HTTP and a real SQLite file, with a fake clock and a recording notifier."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.app import App, build
from monitor.config import load_config
from monitor.extract import Extractor
from monitor.gazetteer import Gazetteer
from monitor.notify import RecordingNotifier, SendResult, Target
from monitor.pipeline import FeedOutcome
from monitor.records import AlertMessage, Article, Extraction
from monitor.settings import Settings
from tests.conftest import E2E_RULES
from tests.support.feedserver import FeedServer
from tests.support.rss import Item, rss

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

RULES = (
    E2E_RULES
    + """  - id: new-region
    title: Conflict reaches a new region
    any: [fighting, clashes]
    new_region: {level: region, window: 30d, baseline: 0s}
    notify: [alerts]
"""
)

ATTACK = Item(
    "Clinic shelled in the north",
    "Artillery shelled the main clinic of the town overnight, witnesses reported.",
    "https://news.example.org/clinic-shelled?utm_source=rss",
    published=START - timedelta(hours=1),
)
DISPLACED = Item(
    "Thousands flee",
    "About 25,000 people have been displaced by the floods this week, officials said.",
    "https://news.example.org/flood",
    published=START - timedelta(hours=2),
)
QUIET = Item(
    "Harvest festival",
    "Farmers celebrated a good harvest with music and food.",
    "https://news.example.org/harvest",
    published=START - timedelta(hours=3),
)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        yield s


def _config_dir(tmp_path: Path, server: FeedServer, feeds: dict[str, str]) -> Path:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    lines = ["feeds:"]
    for name, path in feeds.items():
        lines += [f"  - name: {name}", f"    url: {server.url(path)}", "    interval: 60"]
    (config / "feeds.yaml").write_text("\n".join(lines) + "\n")
    (config / "rules.yaml").write_text(RULES)
    return config


@pytest.fixture
def make_app(
    tmp_path: Path, shared_gazetteer: Gazetteer
) -> Iterator[tuple[Clock, RecordingNotifier, list[App], object]]:
    clock = Clock()
    notifier = RecordingNotifier()
    apps: list[App] = []

    def make(config_dir: Path) -> App:
        settings = Settings(
            config_dir=config_dir,
            data_dir=tmp_path / "data",
            delivery_backoff_base=30,
            delivery_attempts=3,
        )
        app = build(
            settings,
            environ={},
            clock=clock,
            gazetteer=shared_gazetteer,
            notifier=notifier,
            config=load_config(config_dir, {}),
        )
        apps.append(app)
        return app

    yield clock, notifier, apps, make
    for app in apps:
        app.close()


def _poll_all(app: App) -> list[FeedOutcome]:
    async def run() -> list[FeedOutcome]:
        async with app.fetcher() as fetcher:
            return list(
                await asyncio.gather(*(app.pipeline.poll(fetcher, f) for f in app.config.feeds))
            )

    return asyncio.run(run())


def test_poll_alerts_once_and_conditional_refetch(
    tmp_path: Path, server: FeedServer, make_app: tuple
) -> None:
    clock, notifier, _, make = make_app
    server.set("/a.xml", rss([ATTACK, DISPLACED, QUIET]))
    app = make(_config_dir(tmp_path, server, {"A": "/a.xml"}))

    [outcome] = _poll_all(app)
    assert (outcome.status, outcome.entries, outcome.new, outcome.alerts) == ("ok", 3, 3, 2)
    delivered = app.pipeline.deliver(notifier)
    assert delivered.sent == 2
    rules = sorted(m.rule_id for _, m in notifier.sent)
    assert rules == ["displacement", "health-care-attack"]
    attack = next(m for _, m in notifier.sent if m.rule_id == "health-care-attack")
    assert attack.sentence is not None and "shelled" in attack.sentence
    assert {t.lower() for t in attack.terms} == {"shelled", "clinic"}

    clock.advance(60)
    [again] = _poll_all(app)
    assert again.status == "not_modified"
    assert server.requests[-1].headers.get("if-none-match")
    assert app.pipeline.deliver(notifier).sent == 0
    assert len(notifier.sent) == 2


def test_same_article_in_two_feeds_is_processed_once(
    tmp_path: Path, server: FeedServer, make_app: tuple
) -> None:
    _, notifier, _, make = make_app
    copy = Item(
        ATTACK.title,
        ATTACK.text,
        "https://NEWS.example.org/clinic-shelled/",
        published=ATTACK.published,
    )
    server.set("/a.xml", rss([ATTACK]))
    server.set("/b.xml", rss([copy]))
    app = make(_config_dir(tmp_path, server, {"A": "/a.xml", "B": "/b.xml"}))
    outcomes = _poll_all(app)
    assert sum(o.new for o in outcomes) == 1
    app.pipeline.deliver(notifier)
    assert len(notifier.sent) == 1


def test_old_entries_are_recorded_not_alerted(
    tmp_path: Path, server: FeedServer, make_app: tuple
) -> None:
    _, notifier, _, make = make_app
    old = Item(ATTACK.title, ATTACK.text, "https://x.org/old", published=START - timedelta(days=5))
    server.set("/a.xml", rss([old]))
    app = make(_config_dir(tmp_path, server, {"A": "/a.xml"}))
    [outcome] = _poll_all(app)
    assert (outcome.new, outcome.alerts) == (1, 0)
    assert app.store.counts().articles == 1
    assert app.pipeline.deliver(notifier).sent == 0


def test_broken_feed_does_not_stop_the_others(
    tmp_path: Path, server: FeedServer, make_app: tuple
) -> None:
    clock, _, _, make = make_app
    server.set("/good.xml", rss([ATTACK]))
    server.set("/bad.xml", "<html><body>Not a feed</body></html>", content_type="text/html")
    server.set("/down.xml", "oops", status=503, headers={"Retry-After": "120"})
    app = make(
        _config_dir(tmp_path, server, {"good": "/good.xml", "bad": "/bad.xml", "down": "/down.xml"})
    )
    outcomes = {o.feed: o for o in _poll_all(app)}
    assert outcomes["good"].alerts == 1
    assert outcomes["bad"].status == "error" and "not a readable feed" in (
        outcomes["bad"].error or ""
    )
    assert outcomes["down"].status == "error" and "503" in (outcomes["down"].error or "")
    states = {s.name: s for s in app.store.feed_states()}
    assert states["down"].failures == 1
    assert states["down"].next_attempt_at is not None
    assert states["down"].next_attempt_at >= clock.now + timedelta(seconds=120)
    # while backing off, the feed is not fetched again
    before = server.count("/down.xml")
    clock.advance(30)
    outcomes = {o.feed: o for o in _poll_all(app)}
    assert outcomes["down"].status == "waiting"
    assert server.count("/down.xml") == before


def test_failed_delivery_is_retried_with_backoff_then_failed(
    tmp_path: Path, server: FeedServer, make_app: tuple
) -> None:
    clock, notifier, _, make = make_app
    server.set("/a.xml", rss([ATTACK]))
    app = make(_config_dir(tmp_path, server, {"A": "/a.xml"}))
    _poll_all(app)
    notifier.fail_next(10, "SMTP down")
    first = app.pipeline.deliver(notifier)
    assert (first.sent, first.retried) == (0, 1)
    # not due again before the backoff
    assert app.pipeline.deliver(notifier).retried == 0
    clock.advance(31)
    assert app.pipeline.deliver(notifier).retried == 1
    clock.advance(61)
    assert app.pipeline.deliver(notifier).failed == 1
    [alert] = app.store.alerts(10)
    [delivery] = alert.deliveries
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("failed", 3, "SMTP down")


def test_delivery_recovers_after_an_outage(
    tmp_path: Path, server: FeedServer, make_app: tuple
) -> None:
    clock, notifier, _, make = make_app
    server.set("/a.xml", rss([ATTACK]))
    app = make(_config_dir(tmp_path, server, {"A": "/a.xml"}))
    _poll_all(app)
    notifier.fail_next(1)
    app.pipeline.deliver(notifier)
    clock.advance(31)
    assert app.pipeline.deliver(notifier).sent == 1
    assert len(notifier.sent) == 1


def test_new_region_alerts_only_for_unseen_regions(
    tmp_path: Path, server: FeedServer, make_app: tuple
) -> None:
    clock, notifier, _, make = make_app
    first = Item(
        "Clashes in Hama",
        "Heavy fighting was reported in Hama province on Monday.",
        "https://x.org/1",
    )
    server.set("/a.xml", rss([QUIET]))
    app = make(_config_dir(tmp_path, server, {"A": "/a.xml"}))
    _poll_all(app)  # the feed's first poll: its undated backlog is only learned
    server.set("/a.xml", rss([QUIET, first]))
    clock.advance(120)
    _poll_all(app)
    app.pipeline.deliver(notifier)
    assert [m.rule_id for _, m in notifier.sent] == ["new-region"]
    assert "Hama" in notifier.sent[0][1].explain

    again = Item(
        "More clashes in Hama",
        "Fighting continued in Hama province, and clashes reached Idlib province.",
        "https://x.org/2",
    )
    server.set("/a.xml", rss([QUIET, first, again]))
    clock.advance(120)
    _poll_all(app)
    app.pipeline.deliver(notifier)
    regions = [m.places for _, m in notifier.sent if m.rule_id == "new-region"]
    assert len(regions) == 2
    assert any("Idlib" in p for p in regions[1])
    assert not any("Hama" in p for p in regions[1])


def test_new_region_learns_during_the_baseline(
    tmp_path: Path, server: FeedServer, make_app: tuple
) -> None:
    clock, notifier, _, make = make_app
    config = _config_dir(tmp_path, server, {"A": "/a.xml"})
    (config / "rules.yaml").write_text(RULES.replace("baseline: 0s", "baseline: 1h"))
    early = Item("Clashes", "Fighting broke out in Hama province.", "https://x.org/1")
    server.set("/a.xml", rss([early]))
    app = make(config)
    _poll_all(app)
    app.pipeline.deliver(notifier)
    assert notifier.sent == []
    late = Item("Clashes", "Clashes were reported in Hama province again.", "https://x.org/2")
    other = Item("Clashes", "Fighting reached Idlib province.", "https://x.org/3")
    server.set("/a.xml", rss([early, late, other]))
    clock.advance(2 * 3600)
    _poll_all(app)
    app.pipeline.deliver(notifier)
    assert len(notifier.sent) == 1
    assert [p.split()[0] for p in notifier.sent[0][1].places] == ["Idlib"]


class _BrokenOnBoom(Extractor):
    """An extractor with a bug that only one article triggers."""

    def extract(self, article: Article) -> Extraction:
        if "BOOM" in article.title:
            raise ValueError("a bug in extraction")
        return super().extract(article)


def test_an_article_that_crashes_does_not_block_the_feed(
    tmp_path: Path, server: FeedServer, make_app: tuple, caplog: pytest.LogCaptureFixture
) -> None:
    clock, notifier, _, make = make_app
    boom = Item("BOOM goes the parser", "Some text.", "https://x.org/boom")
    server.set("/a.xml", rss([boom, ATTACK]))
    app = make(_config_dir(tmp_path, server, {"A": "/a.xml"}))
    app.pipeline.extractor = _BrokenOnBoom(app.pipeline.extractor.gazetteer)
    [outcome] = _poll_all(app)
    assert (outcome.status, outcome.new, outcome.alerts) == ("error", 1, 1)
    assert "1 of 2 entries could not be processed" in (outcome.error or "")
    assert "a bug in extraction" in caplog.text
    assert app.pipeline.deliver(notifier).sent == 1
    # the feed's validators were not advanced: the next poll reads it whole, and the article
    # that failed gets another chance once the bug is gone
    app.pipeline.extractor = Extractor(app.pipeline.extractor.gazetteer)
    clock.advance(3600)
    [again] = _poll_all(app)
    assert (again.status, again.new) == ("ok", 1)
    assert "if-none-match" not in server.requests[-1].headers


def test_stopping_leaves_the_rest_for_next_time(
    tmp_path: Path, server: FeedServer, make_app: tuple
) -> None:
    _, _, _, make = make_app
    server.set("/a.xml", rss([ATTACK, DISPLACED, QUIET]))
    app = make(_config_dir(tmp_path, server, {"A": "/a.xml"}))
    app.pipeline.stopping = True
    [outcome] = _poll_all(app)
    assert outcome.status == "stopped"
    assert app.store.counts().articles == 0
    state = app.store.get_feed_state("A")
    assert state is not None and state.validators.etag is None  # the next poll fetches it all


def test_a_new_feed_address_starts_afresh(
    tmp_path: Path, server: FeedServer, make_app: tuple
) -> None:
    _clock, _, apps, make = make_app
    server.set("/new.xml", rss([QUIET]))
    server.redirect("/old.xml", "/moved.xml", status=301)
    server.set("/moved.xml", "down", status=503)
    app = make(_config_dir(tmp_path, server, {"A": "/old.xml"}))
    [failed] = _poll_all(app)
    assert failed.status == "error"
    app.close()
    apps.remove(app)
    # the user points the feed elsewhere: no backoff from the old address, no old redirect
    app = make(_config_dir(tmp_path, server, {"A": "/new.xml"}))
    [outcome] = _poll_all(app)
    assert (outcome.status, outcome.new) == ("ok", 1)
    assert server.count("/new.xml") == 1


def test_a_new_feeds_undated_backlog_does_not_flood(
    tmp_path: Path, server: FeedServer, make_app: tuple
) -> None:
    clock, notifier, _, make = make_app
    undated = [
        Item(f"Clinic shelled {i}", ATTACK.text + f" Report {i}.", f"https://x.org/u{i}")
        for i in range(5)
    ]
    server.set("/a.xml", rss(undated))
    app = make(_config_dir(tmp_path, server, {"A": "/a.xml"}))
    [first] = _poll_all(app)
    assert (first.new, first.alerts) == (5, 0)
    fresh = Item(
        "Clinic shelled again", "Shelling struck a clinic in the valley today.", "https://x.org/new"
    )
    server.set("/a.xml", rss([*undated, fresh]))
    clock.advance(61)
    [second] = _poll_all(app)
    assert (second.new, second.alerts) == (1, 1)
    assert app.pipeline.deliver(notifier).sent == 1


def test_a_channel_missing_for_a_while_gets_its_alert_when_it_returns(
    tmp_path: Path, server: FeedServer, make_app: tuple
) -> None:
    clock, notifier, _, make = make_app
    config = _config_dir(tmp_path, server, {"A": "/a.xml"})
    channels = "version: 1\nurls:\n  - json://127.0.0.1:9/hook:\n      tag: alerts\n"
    (config / "channels.yaml").write_text(channels)
    server.set("/a.xml", rss([ATTACK]))
    app = make(config)
    _poll_all(app)
    (config / "channels.yaml").write_text("version: 1\nurls: []\n")  # commented out, say
    app.reload()
    assert app.pipeline.deliver(notifier).retried == 1
    [alert] = app.store.alerts(10)
    assert "not in channels.yaml" in (alert.deliveries[0].last_error or "")
    (config / "channels.yaml").write_text(channels)  # and back
    app.reload()
    clock.advance(31)
    assert app.pipeline.deliver(notifier).sent == 1
    assert [t.kind for t, _ in notifier.sent] == ["json"]


class _MailDown(RecordingNotifier):
    """Email fails, every other channel works."""

    def send(self, target: Target, message: AlertMessage) -> SendResult:
        if target.kind == "email":
            self.attempts.append((target, message))
            return SendResult(False, "connection timed out")
        return super().send(target, message)


def test_a_failing_channel_is_tried_once_per_pass_and_does_not_hold_the_others(
    tmp_path: Path, server: FeedServer, make_app: tuple
) -> None:
    _, _, _, make = make_app
    config = _config_dir(tmp_path, server, {"A": "/a.xml"})
    (config / "channels.yaml").write_text(
        "version: 1\nurls:\n"
        "  - mailto://127.0.0.1:9?to=a@example.org&from=m@example.org&mode=insecure:\n      tag: alerts\n"
        "  - json://127.0.0.1:9/hook:\n      tag: alerts\n"
    )
    items = [
        Item(
            f"Clinic shelled in district {i}",
            f"Artillery shelled clinic number {i} overnight.",
            f"https://x.org/c{i}",
            published=START - timedelta(minutes=i),
        )
        for i in range(5)
    ]
    server.set("/a.xml", rss(items))
    app = make(config)
    _poll_all(app)
    notifier = _MailDown()
    done = app.pipeline.deliver(notifier)
    assert done.sent == 5  # every webhook delivery went out
    assert [t.kind for t, _ in notifier.attempts].count("email") == 1  # email: once, then skipped
    assert done.retried == 1
    states = [
        d.state
        for a in app.store.alerts(10)
        for d in a.deliveries
        if d.target_label.startswith("mailto")
    ]
    assert sorted(states) == ["pending"] * 5
    attempts = sorted(
        d.attempts
        for a in app.store.alerts(10)
        for d in a.deliveries
        if d.target_label.startswith("mailto")
    )
    assert attempts == [0, 0, 0, 0, 1]  # the skipped ones were handed back without counting

"""End to end: `monitor run` as a subprocess against a local feed server, a real SMTP server
(aiosmtpd, through Apprise) and a local JSON webhook sink, on a real SQLite file."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from tests.conftest import E2E_INTERVAL
from tests.support.rss import Item, rss
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.e2e

INTERVAL = E2E_INTERVAL
NOW = datetime.now(UTC)  # dated entries: a new feed's undated backlog is never alerted

ATTACK = Item(
    "Hospital struck in Kadugli",
    "A maternity hospital was struck by artillery in Kadugli on Sunday, staff reported.",
    "https://news.example.org/kadugli",
    published=NOW,
)
DISPLACED = Item(
    "Floods uproot thousands",
    "Some 30,000 people have been displaced by floods along the river, the agency said.",
    "https://news.example.org/floods",
    published=NOW,
)
SHELLED = Item(
    "Clinic shelled",
    "Shelling hit a rural clinic near Bentiu overnight; two nurses were hurt.",
    "https://news.example.org/bentiu",
    published=NOW,
)
QUIET = Item(
    "Market day", "Traders sold onions and tea in the square.", "https://news.example.org/q"
)


def _subjects(smtp: SmtpServer) -> list[str]:
    return sorted(str(m["Subject"]) for m in smtp.messages)


def test_daemon_delivers_survives_kill_and_outage_and_stops_cleanly(world: tuple) -> None:
    feeds, smtp, sink, daemon = world
    feeds.set("/wire.xml", rss([ATTACK, QUIET]))
    daemon.start()

    # 1. the first alert arrives by email (text and HTML parts) and on the webhook
    assert smtp.wait_for(1, timeout=40), daemon.output()
    assert sink.wait_for(1, timeout=10), daemon.output()
    mail = smtp.messages[0]
    assert "Attack on health care" in str(mail["Subject"])
    assert mail.is_multipart()
    kinds = {part.get_content_type() for part in mail.walk()}
    assert {"text/plain", "text/html"} <= kinds

    health = subprocess.run(
        [sys.executable, "-m", "monitor", "health"], env=daemon.env, capture_output=True, text=True
    )
    assert health.returncode == 0, health.stdout + health.stderr

    # 2. a new item appears: its alert arrives within about one interval
    feeds.set("/wire.xml", rss([ATTACK, QUIET, DISPLACED]))
    appeared = time.monotonic()
    assert smtp.wait_for(2, timeout=INTERVAL + 12), daemon.output()
    assert time.monotonic() - appeared < INTERVAL + 12
    assert any("Large displacement" in s for s in _subjects(smtp))
    assert sink.wait_for(2, timeout=10)

    # 3. kill -9 and restart: nothing is sent twice
    daemon.kill()
    before_mail, before_hook = len(smtp.messages), len(sink.received)
    daemon.start()
    time.sleep(4 * INTERVAL)
    assert len(smtp.messages) == before_mail, _subjects(smtp)
    assert len(sink.received) == before_hook

    # 4. the SMTP server goes down: the alert waits, and goes out when it is back
    smtp.stop()
    feeds.set("/wire.xml", rss([ATTACK, QUIET, DISPLACED, SHELLED]))
    assert sink.wait_for(3, timeout=INTERVAL + 12), daemon.output()
    time.sleep(2)
    assert len(smtp.messages) == 2
    smtp.start()
    assert smtp.wait_for(3, timeout=30), daemon.output()
    assert len(smtp.messages) == 3
    assert len(sink.received) == 3

    # 5. SIGTERM: a clean exit, quickly
    code, took = daemon.terminate()
    assert code == 0, daemon.output()
    assert took < 10
    assert "Traceback" not in daemon.output()

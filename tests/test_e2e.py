"""End to end: `monitor run` as a subprocess against a local feed server, a real SMTP server
(aiosmtpd, through Apprise) and a local JSON webhook sink, on a real SQLite file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.feedserver import FeedServer
from tests.support.rss import Item, rss
from tests.support.sink import JsonSink
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.e2e

INTERVAL = 2  # seconds between polls of the test feed

RULES = """rules:
  - id: health-care-attack
    title: Attack on health care
    severity: high
    all:
      facility: [hospital*, clinic*]
      attack: [struck, shell*, bomb*]
    notify: [alerts]
  - id: displacement
    title: Large displacement
    severity: high
    figure: {kind: displaced, at_least: 10000}
    notify: [alerts]
"""

ATTACK = Item(
    "Hospital struck in Kadugli",
    "A maternity hospital was struck by artillery in Kadugli on Sunday, staff reported.",
    "https://news.example.org/kadugli",
)
DISPLACED = Item(
    "Floods uproot thousands",
    "Some 30,000 people have been displaced by floods along the river, the agency said.",
    "https://news.example.org/floods",
)
SHELLED = Item(
    "Clinic shelled",
    "Shelling hit a rural clinic near Bentiu overnight; two nurses were hurt.",
    "https://news.example.org/bentiu",
)
QUIET = Item(
    "Market day", "Traders sold onions and tea in the square.", "https://news.example.org/q"
)


class Daemon:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def terminate(self) -> tuple[int, float]:
        assert self.proc is not None
        began = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(15)
        return code, time.monotonic() - began

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def world(
    tmp_path: Path, gazetteer_cache: Path
) -> Iterator[tuple[FeedServer, SmtpServer, JsonSink, Daemon]]:
    with FeedServer() as feeds, SmtpServer() as smtp, JsonSink() as sink:
        config = tmp_path / "config"
        config.mkdir()
        (config / "feeds.yaml").write_text(
            f"feeds:\n  - name: Test wire\n    url: {feeds.url('/wire.xml')}\n    interval: {INTERVAL}\n"
        )
        (config / "rules.yaml").write_text(RULES)
        (config / "channels.yaml").write_text(
            "version: 1\nurls:\n"
            f"  - {smtp.url()}:\n      tag: alerts\n"
            f"  - {sink.url}:\n      tag: alerts\n"
        )
        env = {
            **os.environ,
            "MONITOR_CONFIG_DIR": str(config),
            "MONITOR_DATA_DIR": str(tmp_path / "data"),
            "MONITOR_CACHE_DIR": str(gazetteer_cache),
            "MONITOR_DELIVERY_INTERVAL": "1",
            "MONITOR_DELIVERY_BACKOFF_BASE": "1",
            "MONITOR_DELIVERY_BACKOFF_CAP": "2",
            "MONITOR_FEED_BACKOFF_BASE": "1",
            "MONITOR_JITTER": "0",
            "MONITOR_WORKER_ID": "e2e",
            "MONITOR_LOG_LEVEL": "INFO",
        }
        daemon = Daemon(env, tmp_path / "daemon.log")
        try:
            yield feeds, smtp, sink, daemon
        finally:
            if daemon.proc is not None and daemon.proc.poll() is None:
                daemon.proc.kill()
                daemon.proc.wait(10)


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

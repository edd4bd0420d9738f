"""Shared fixtures: one gazetteer per test session (built into a session cache folder), and the
world of the end-to-end tests: a feed server, an SMTP server, a webhook sink and the daemon."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.gazetteer import Gazetteer
from tests.support.daemon import Daemon
from tests.support.feedserver import FeedServer
from tests.support.sink import JsonSink
from tests.support.smtp import SmtpServer

MIN_POPULATION = 5000
E2E_INTERVAL = 2  # seconds between polls of the end-to-end test feed
E2E_RULES = """rules:
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


@pytest.fixture(scope="session")
def gazetteer_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gazetteer-cache")


@pytest.fixture(scope="session")
def shared_gazetteer(gazetteer_cache: Path) -> Gazetteer:
    return Gazetteer.load(MIN_POPULATION, cache_dir=gazetteer_cache)


@pytest.fixture
def world(
    tmp_path: Path, gazetteer_cache: Path
) -> Iterator[tuple[FeedServer, SmtpServer, JsonSink, Daemon]]:
    with FeedServer() as feeds, SmtpServer() as smtp, JsonSink() as sink:
        config = tmp_path / "config"
        config.mkdir()
        (config / "feeds.yaml").write_text(
            f"feeds:\n  - name: Test wire\n    url: {feeds.url('/wire.xml')}\n    interval: {E2E_INTERVAL}\n"
        )
        (config / "rules.yaml").write_text(E2E_RULES)
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

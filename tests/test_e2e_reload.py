"""End to end: the daemon reloads its config on change and on SIGHUP, and keeps its last good
rules when the new ones are broken."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.support.daemon import Daemon
from tests.support.rss import Item, rss

pytestmark = pytest.mark.e2e

ONIONS = """rules:
  - id: onion-prices
    title: Onion prices
    severity: low
    any: [onion*]
    notify: [alerts]
"""


def _wait_for(daemon: Daemon, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in daemon.output():
            return True
        time.sleep(0.2)
    return False


def test_reload_keeps_last_good_rules_and_applies_new_ones(world: tuple, tmp_path: Path) -> None:
    feeds, _smtp, sink, daemon = world
    config = Path(daemon.env["MONITOR_CONFIG_DIR"])
    first = Item("Market day", "Traders sold onions and tea.", "https://news.example.org/m1")
    feeds.set("/wire.xml", rss([first]))
    daemon.start()
    assert _wait_for(daemon, "feed Test wire: 1 entries", 40), daemon.output()
    assert sink.received == []  # no shipped rule fires on onions

    (config / "rules.yaml").write_text("rules:\n  - id: broken\n    any: [x\n")
    assert _wait_for(daemon, "config not reloaded (file change)", 15), daemon.output()
    assert "rules.yaml:" in daemon.output()
    assert daemon.proc is not None and daemon.proc.poll() is None

    (config / "rules.yaml").write_text(ONIONS)
    assert _wait_for(daemon, "config reloaded (file change)", 15), daemon.output()
    second = Item(
        "Onion glut", "Onion prices fell by half this week.", "https://news.example.org/m2"
    )
    feeds.set("/wire.xml", rss([first, second]))
    assert sink.wait_for(1, timeout=20), daemon.output()
    assert "Onion prices" in str(sink.received[0])

    daemon.proc.send_signal(signal.SIGHUP)
    assert _wait_for(daemon, "config reloaded (SIGHUP)", 10), daemon.output()
    code, _ = daemon.terminate()
    assert code == 0

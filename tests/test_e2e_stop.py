"""End to end: SIGTERM while a send hangs on a silent SMTP server still exits 0 within 10 s,
and the alert is neither lost nor marked sent."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.daemon import Daemon
from tests.support.rss import Item, rss

pytestmark = pytest.mark.e2e


@pytest.fixture
def silent_smtp() -> Iterator[tuple[int, list[socket.socket]]]:
    """A server that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    done = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not done.is_set():
            try:
                conn, _ = listener.accept()
                accepted.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], accepted
    done.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    listener.close()


def test_sigterm_during_a_hanging_send(
    world: tuple, silent_smtp: tuple[int, list[socket.socket]]
) -> None:
    feeds, _smtp, _sink, daemon = world
    port, accepted = silent_smtp
    config = Path(daemon.env["MONITOR_CONFIG_DIR"])
    (config / "channels.yaml").write_text(
        "version: 1\nurls:\n"
        f"  - mailto://127.0.0.1:{port}?to=a@example.org&from=m@example.org&mode=insecure&cto=60&rto=60:\n"
        "      tag: alerts\n"
    )
    story = Item(
        "Hospital struck",
        "A hospital was struck by shelling in the night.",
        "https://news.example.org/h",
        published=datetime.now(UTC),
    )
    feeds.set("/wire.xml", rss([story]))
    daemon.start()
    deadline = time.monotonic() + 40
    while not accepted and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "alert health-care-attack" in daemon.output(), daemon.output()
    assert accepted, "the delivery never reached the silent server"
    time.sleep(1)  # the send is now waiting for a greeting that never comes
    code, took = daemon.terminate()
    assert code == 0, daemon.output()
    assert took < 10, daemon.output()
    assert "crashed" not in daemon.output()
    assert "sent to" not in daemon.output()  # not marked sent: it will be retried

    status = Daemon(daemon.env, daemon.log)
    out = status.run_command("alerts")
    assert "health-care-attack" in out
    assert ": sent" not in out

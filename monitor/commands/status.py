"""monitor feeds, alerts and notify-test: what the daemon did, and whether channels work."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from monitor.app import utc_now
from monitor.commands.common import CliError, load_config_for
from monitor.config import ConfigError
from monitor.durations import format_duration
from monitor.notify import CONSOLE_TARGET
from monitor.records import AlertMessage
from monitor.settings import Settings

# --- status ------------------------------------------------------------------------------------


def _open_store(settings: Settings) -> Any:
    from monitor.store import Store

    return Store.open(settings.db_url, create=False)  # a status never creates a database


def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    store = _open_store(settings)
    try:
        states = {s.name: s for s in store.feed_states()}
    finally:
        store.close()
    try:
        configured = [f.name for f in load_config_for(settings, args).feeds]
    except ConfigError:
        configured = []
    names = configured + sorted(n for n in states if n not in configured)
    rows = [("FEED", "LAST SUCCESS", "FAILURES", "NEXT TRY", "ENTRIES", "LAST ERROR")]
    for name in names:
        s = states.get(name)
        if s is None:
            rows.append((name, "never polled", "", "", "", ""))
            continue
        rows.append(
            (
                name + ("" if name in configured else " (not in config)"),
                _when(s.last_success),
                str(s.failures),
                _when(s.next_attempt_at) if s.next_attempt_at else "",
                str(s.entries_total),
                (s.last_error or "")[:70] if s.failures else "",
            )
        )
    _table(rows, sys.stdout)
    return 0


def cmd_alerts(args: argparse.Namespace, settings: Settings) -> int:
    store = _open_store(settings)
    try:
        alerts = store.alerts(args.limit)
        counts = store.counts()
    finally:
        store.close()
    rows = [("ID", "CREATED", "RULE", "SEVERITY", "ARTICLE", "DELIVERY")]
    for a in alerts:
        states = "; ".join(
            f"{d.target_label}: {d.state}"
            + (
                f" ({d.attempts}x, {d.last_error[:40]})"
                if d.last_error and d.state != "sent"
                else ""
            )
            for d in a.deliveries
        )
        rows.append(
            (
                str(a.alert_id),
                _when(a.created_at),
                a.rule_id,
                a.severity,
                a.article_title[:60],
                states,
            )
        )
    _table(rows, sys.stdout)
    states = ", ".join(f"{n} {s}" for s, n in counts.deliveries.items())
    print(f"\n{counts.articles} articles, {counts.alerts} alerts; deliveries: {states}")
    return 0


def _when(value: datetime | None) -> str:
    if value is None:
        return "never"
    ago = (utc_now() - value).total_seconds()
    label = f"{format_duration(abs(ago))} {'ago' if ago >= 0 else 'from now'}"
    return f"{value:%Y-%m-%d %H:%M} ({label})"


def _table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


# --- notify-test -------------------------------------------------------------------------------


def cmd_notify_test(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.app import Dispatcher

    config = load_config_for(settings, args)
    targets = config.channels.targets(args.tag) if args.tag else config.channels.all_targets()
    if not targets:
        if args.tag:
            raise CliError(
                f"no channel has the tag(s) {', '.join(args.tag)} in {settings.config_dir / 'channels.yaml'}"
            )
        targets = (CONSOLE_TARGET,)
    message = AlertMessage(
        alert_id=0,
        severity="info",
        rule_id="notify-test",
        rule_title="Test notification",
        article_title="This is a test alert from the humanitarian monitor",
        source="monitor notify-test",
        link=None,
        sentence="If you can read this, alerts reach this channel.",
        terms=("alerts",),
        published=utc_now(),
        explain="sent by `monitor notify-test`",
    )
    dispatcher = Dispatcher(config, sys.stdout)
    failed = 0
    for target in targets:
        result = dispatcher.send(target, message)
        print(
            f"{target.label}: {'sent' if result.ok else 'FAILED: ' + (result.error or 'unknown error')}"
        )
        failed += 0 if result.ok else 1
    return 1 if failed else 0

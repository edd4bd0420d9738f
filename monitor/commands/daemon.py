"""monitor run, check and health."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from monitor.app import App
from monitor.commands.common import build_app
from monitor.config import ConfigError, load_config
from monitor.durations import format_duration
from monitor.settings import Settings

# --- run ---------------------------------------------------------------------------------------

log = logging.getLogger("monitor")


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    app = build_app(settings, args)
    try:
        if args.once:
            return asyncio.run(_run_once(app))
        from monitor.scheduler import run_daemon

        asyncio.run(run_daemon(app))
        return 0
    finally:
        app.close()


async def _run_once(app: App) -> int:
    feeds = app.config.feeds
    async with app.fetcher() as fetcher:
        outcomes = await asyncio.gather(*(app.pipeline.poll(fetcher, f) for f in feeds))
    delivered = await asyncio.to_thread(app.pipeline.deliver, app.notifier, 100_000)
    by_status: dict[str, int] = {}
    for o in outcomes:
        by_status[o.status] = by_status.get(o.status, 0) + 1
    new = sum(o.new for o in outcomes)
    alerts = sum(o.alerts for o in outcomes)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
    log.info(
        "cycle done: %d feeds (%s); %d new articles; %d alerts; deliveries: %d sent, %d to retry, %d failed",
        len(feeds),
        summary or "none",
        new,
        alerts,
        delivered.sent,
        delivered.retried,
        delivered.failed,
    )
    errors = [o for o in outcomes if o.status == "error"]
    if errors:
        log.warning("%d feed(s) failed this cycle; `monitor feeds` shows them", len(errors))
    return 0


# --- health ------------------------------------------------------------------------------------

HEALTH_STALE = 180.0  # seconds without a heartbeat before the daemon counts as stuck


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.scheduler import heartbeat_age

    age = heartbeat_age(settings.data_dir)
    if age is None:
        print(f"unhealthy: no heartbeat in {settings.data_dir} (is `monitor run` running?)")
        return 1
    if age > HEALTH_STALE:
        print(f"unhealthy: last heartbeat {format_duration(age)} ago")
        return 1
    print(f"healthy: last heartbeat {format_duration(age)} ago")
    return 0


# --- check -------------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    try:
        config = load_config(settings.config_dir, os.environ, settings.default_interval)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        errors = sum(1 for p in exc.problems if p.level == "error")
        print(f"{errors} error(s) in {settings.config_dir}", file=sys.stderr)
        return 1
    for problem in config.problems:
        print(problem, file=sys.stderr)
    targets = config.channels.all_targets()
    print(
        f"config OK: {len(config.feeds)} feeds, {len(config.rules)} rules, "
        f"{len(targets)} channels"
        + ("" if targets else " (alerts will be printed on standard output)")
    )
    return 0

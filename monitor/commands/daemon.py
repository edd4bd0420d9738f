"""monitor run, check and health."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
from collections.abc import Sequence

from monitor.app import App, load_gazetteer
from monitor.commands.common import build_app, read_config
from monitor.config import ConfigError
from monitor.durations import format_duration
from monitor.gazetteer import Gazetteer
from monitor.rules import Problem, Rule
from monitor.settings import Settings
from monitor.text import tokens
from monitor.threads import in_daemon_thread

# --- run ---------------------------------------------------------------------------------------

log = logging.getLogger("monitor")


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    app = build_app(settings, args)
    try:
        if args.once:
            return asyncio.run(_run_once(app))
        from monitor.scheduler import run_daemon

        asyncio.run(run_daemon(app))
    finally:
        app.close()
    _exit_now_if_held()
    return 0


def _exit_now_if_held() -> None:
    """Exit at once if a thread would hold the process after a stop.

    A send stuck in a silent mail server runs in a thread Apprise starts and the interpreter
    would wait for (up to the URL's timeouts). Its delivery is still claimed, not sent, so it
    is retried after a restart: abandoning the thread loses nothing.
    """
    # Not only non-daemon threads: the interpreter also joins every thread-pool worker at
    # exit, daemon or not, and Apprise sends through a pool.
    held = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if held:
        log.info("leaving %d unfinished thread(s) behind: exiting now", len(held))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


async def _run_once(app: App) -> int:
    feeds = app.config.feeds
    async with app.fetcher() as fetcher:
        outcomes = await asyncio.gather(*(app.pipeline.poll(fetcher, f, force=True) for f in feeds))
    delivered = await in_daemon_thread(
        lambda: app.pipeline.deliver(app.notifier, 100_000), "deliver"
    )
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


def place_problems(rules: Sequence[Rule], gazetteer: Gazetteer) -> list[Problem]:
    """Warnings for place filters that name no place the gazetteer knows (a typo would make
    an include filter never match, or an exclude filter never exclude)."""
    out = []
    for rule in rules:
        if rule.places is None:
            continue
        for selector in (*rule.places.include, *rule.places.exclude):
            s = selector.strip()
            if ":" in s:
                known = gazetteer.get(s) is not None
            elif len(s) == 2 and s.isalpha() and s.isupper():
                known = gazetteer.get(f"country:{s}") is not None
            else:
                known = bool(gazetteer.candidates(" ".join(t.folded for t in tokens(s))))
            if not known:
                out.append(
                    Problem(
                        rule.source,
                        rule.line,
                        f"rule '{rule.id}': place '{s}' is not in the gazetteer",
                        "warning",
                    )
                )
    return out


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    try:
        config = read_config(settings, args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        errors = sum(1 for p in exc.problems if p.level == "error")
        print(f"{errors} error(s) in {settings.config_dir}", file=sys.stderr)
        return 1
    problems = list(config.problems)
    if any(r.places for r in config.rules):
        problems += place_problems(config.rules, load_gazetteer(settings))
    for problem in problems:
        print(problem, file=sys.stderr)
    targets = config.channels.all_targets()
    print(
        f"config OK: {len(config.feeds)} feeds, {len(config.rules)} rules, "
        f"{len(targets)} channels"
        + ("" if targets else " (alerts will be printed on standard output)")
    )
    return 0

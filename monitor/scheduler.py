"""The daemon: APScheduler drives polling and delivery. The only module importing apscheduler.

One job per feed (its interval, with jitter; never two runs of one feed at once; a late run is
coalesced), one delivery job (woken at once when a poll created alerts), one job watching the
config files. SIGTERM/SIGINT stop it: running work gets a few seconds to finish, then is
cancelled, which is safe (an unfinished feed is simply fetched again; a delivery's lease runs
out and it is retried). SIGHUP reloads the config, as does a change to its files.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.app import App
from monitor.config import ConfigError
from monitor.fetch import Fetcher
from monitor.records import FeedSpec
from monitor.store.engine import masked_url
from monitor.threads import in_daemon_thread

log = logging.getLogger("monitor.daemon")
GRACE = 7.0  # seconds running work may take to finish after a stop signal
WATCH_INTERVAL = 5.0  # seconds between checks of the config files
SKIP_LOG_EVERY = 3600.0  # seconds between two warnings about one job's skipped runs


class Daemon:
    def __init__(self, app: App) -> None:
        self.app = app
        self.stop = asyncio.Event()
        self.tasks: set[asyncio.Task[object]] = set()
        self.scheduler = AsyncIOScheduler(
            timezone="UTC",
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        self.fetcher: Fetcher | None = None
        self._mtimes = self._config_mtimes()
        self._skip_logged: dict[str, float] = {}

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._request_stop, sig)
        loop.add_signal_handler(signal.SIGHUP, self._reload_soon, "SIGHUP")
        async with self.app.fetcher() as fetcher:
            self.fetcher = fetcher
            self.scheduler.add_listener(
                self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
            )
            self._schedule_feeds(self.app.config.feeds)
            self.scheduler.add_job(
                self._tracked(self._deliver),
                IntervalTrigger(seconds=self.app.settings.delivery_interval),
                id="deliver",
                name="deliver",
                next_run_time=_now(),
            )
            self.scheduler.add_job(
                self._tracked(self._watch),
                IntervalTrigger(seconds=WATCH_INTERVAL),
                id="watch",
                name="watch config",
            )
            self.scheduler.start()
            self._beat()
            log.info(
                "monitor running: %d feeds, %d rules, worker %s, database %s",
                len(self.app.config.feeds),
                len(self.app.config.rules),
                self.app.pipeline.worker,
                masked_url(self.app.settings.db_url),
            )
            await self.stop.wait()
            # pause first: shutting down would cancel the running jobs at once
            self.scheduler.pause()
            await self._drain()
            self.scheduler.shutdown(wait=False)
        log.info("monitor stopped")

    def _request_stop(self, sig: signal.Signals) -> None:
        log.info("%s received: stopping", sig.name)
        self.stop.set()
        self.app.pipeline.stopping = True

    async def _drain(self) -> None:
        pending = {t for t in self.tasks if not t.done()}
        if pending:
            log.info("waiting up to %ds for %d running job(s)", GRACE, len(pending))
            _, late = await asyncio.wait(pending, timeout=GRACE)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=2)
                log.warning(
                    "abandoned %d job(s) at stop; their work is redone on the next start", len(late)
                )

    def _tracked(self, func: Callable[..., Awaitable[object]]) -> Callable[..., Awaitable[object]]:
        async def job(*args: object) -> object:
            if self.stop.is_set():
                return None
            task = asyncio.current_task()
            assert task is not None
            self.tasks.add(task)
            try:
                return await func(*args)
            except asyncio.CancelledError:
                # abandoned at stop: its work is redone on the next start, nothing is lost
                log.info("job %s abandoned at stop", getattr(func, "__name__", "job"))
                return None
            finally:
                self.tasks.discard(task)

        job.__name__ = getattr(func, "__name__", "job")
        return job

    def _schedule_feeds(self, feeds: tuple[FeedSpec, ...]) -> None:
        wanted = {f"feed:{f.name}": f for f in feeds}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("feed:") and job.id not in wanted:
                job.remove()
                log.info("feed %s removed from the schedule", job.id[5:])
        jitter = self.app.settings.jitter
        for job_id, feed in wanted.items():
            trigger = IntervalTrigger(seconds=feed.interval, jitter=feed.interval * jitter or None)
            existing = self.scheduler.get_job(job_id)
            if existing is not None:
                old = existing.args[0] if existing.args else None
                existing.modify(args=(feed,))
                if not isinstance(old, FeedSpec) or old.interval != feed.interval:
                    # a new interval: keep the poll that was due, if it comes sooner
                    due = existing.next_run_time
                    existing.reschedule(trigger)
                    soonest = _now() + timedelta(seconds=feed.interval)
                    existing.modify(next_run_time=min(due, soonest) if due else soonest)
                continue
            # spread the first polls over a few seconds rather than all at once
            first = _now() + timedelta(seconds=random.uniform(0, min(5.0, feed.interval * jitter)))
            self.scheduler.add_job(
                self._tracked(self._poll),
                trigger,
                args=(feed,),
                id=job_id,
                name=job_id,
                next_run_time=first,
            )

    async def _poll(self, feed: FeedSpec) -> None:
        assert self.fetcher is not None
        outcome = await self.app.pipeline.poll(self.fetcher, feed)
        if outcome.alerts:
            job = self.scheduler.get_job("deliver")
            if job is not None:
                job.modify(next_run_time=_now())

    async def _deliver(self) -> None:
        app = self.app
        await in_daemon_thread(
            lambda: app.pipeline.deliver(app.notifier, 1000, self.stop.is_set), "deliver"
        )

    async def _watch(self) -> None:
        self._beat()
        mtimes = self._config_mtimes()
        if mtimes != self._mtimes:
            self._mtimes = mtimes
            await self.reload("file change")

    def _beat(self) -> None:
        """Show `monitor health` that the scheduler is alive."""
        path = heartbeat_path(self.app.settings.data_dir)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{_now().isoformat()} {self.app.pipeline.worker}\n")
        except OSError as exc:
            log.warning("cannot write the heartbeat file %s: %s", path, exc)

    def _config_mtimes(self) -> dict[Path, float]:
        config_dir = self.app.settings.config_dir
        paths = set(self.app.config.files) | set(config_dir.glob("rules.d/*.y*ml"))
        out = {}
        for p in paths:
            with contextlib.suppress(OSError):
                out[p] = p.stat().st_mtime
        return out

    def _reload_soon(self, why: str) -> None:
        task = asyncio.ensure_future(self.reload(why))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def reload(self, why: str) -> None:
        """Read the config in a thread (reading channels.yaml can wait behind a send), then
        switch to it on the loop; a config with errors is refused and the last good one kept."""
        try:
            config = await in_daemon_thread(self.app.read_config, "reload")
        except ConfigError as exc:
            log.error("config not reloaded (%s), keeping the last good one:\n%s", why, exc)
            return
        self.app.apply(config)
        for problem in config.problems:
            log.warning("%s", problem)
        self._schedule_feeds(config.feeds)
        self._mtimes = self._config_mtimes()
        log.info(
            "config reloaded (%s): %d feeds, %d rules", why, len(config.feeds), len(config.rules)
        )

    def _on_event(self, event: JobExecutionEvent | JobSubmissionEvent) -> None:
        if event.code == EVENT_JOB_ERROR:
            exc = getattr(event, "exception", None)
            log.error("job %s crashed: %r", event.job_id, exc, exc_info=exc)
        elif event.code == EVENT_JOB_MISSED:
            log.warning(
                "job %s missed its run time: the process was too busy or asleep", event.job_id
            )
        elif event.code == EVENT_JOB_MAX_INSTANCES and event.job_id == "deliver":
            log.debug("delivery still busy with the last batch")
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            # a feed slower than its interval: say so once an hour, not at every skipped run
            now = time.monotonic()
            if now - self._skip_logged.get(event.job_id, -SKIP_LOG_EVERY) >= SKIP_LOG_EVERY:
                self._skip_logged[event.job_id] = now
                why = (
                    "the feed takes longer than its interval"
                    if event.job_id.startswith("feed:")
                    else "still busy"
                )
                log.warning(
                    "job %s still running at its next run time: run skipped (%s; said once an hour)",
                    event.job_id,
                    why,
                )


def heartbeat_path(data_dir: Path) -> Path:
    return data_dir / "heartbeat"


def heartbeat_age(data_dir: Path) -> float | None:
    """Seconds since the daemon last showed it was alive; None when it never did."""
    try:
        return max(0.0, _now().timestamp() - heartbeat_path(data_dir).stat().st_mtime)
    except OSError:
        return None


def _now() -> datetime:
    return datetime.now(UTC)


async def run_daemon(app: App) -> None:
    await Daemon(app).run()

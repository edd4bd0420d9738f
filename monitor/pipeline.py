"""The pipeline: fetch -> parse -> dedup -> extract -> match -> decide -> outbox, and delivery.

This is where IO happens in order; every decision is made by the pure stages it calls. Expected
per-feed problems (network, HTTP, unreadable feed) are caught, logged and recorded for that feed
only; anything else is a bug and propagates.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from monitor.analysis import Analyzer
from monitor.config import Config
from monitor.decide import RuleState, cooldown_key, decide
from monitor.dedup import article_keys
from monitor.extract import Extractor
from monitor.fetch import Fetcher, backoff_delay
from monitor.figures import format_figure
from monitor.match import CompiledRules, compile_rules
from monitor.notify import CONSOLE_TARGET, Notifier, SendResult, Target
from monitor.parse import FeedParseError, parse_feed
from monitor.records import Article, FeedSpec, Match, Validators
from monitor.rules import Rule
from monitor.settings import Settings
from monitor.store import AlertDraft, Store
from monitor.threads import in_daemon_thread

log = logging.getLogger("monitor.pipeline")
DELIVERY_BATCH = 8  # deliveries claimed at once; each send is bounded by its channel's timeout


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """What one poll of one feed did."""

    feed: str
    status: str  # ok / not_modified / error / busy (another worker) / waiting (backoff) / stopped
    entries: int = 0
    new: int = 0
    alerts: int = 0
    error: str | None = None
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class ArticleOutcome:
    duplicate: bool
    matches: tuple[Match, ...] = ()
    alerts: int = 0
    held: tuple[str, ...] = ()
    failed: bool = False  # an unexpected error: logged, not stored


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    sent: int = 0
    retried: int = 0
    failed: int = 0


@dataclass(frozen=True)
class Ruleset:
    """A config and its compiled rules: swapped as one on reload."""

    config: Config
    compiled: CompiledRules
    by_id: dict[str, Rule]  # the rules by id, for decide

    @classmethod
    def build(cls, config: Config) -> Ruleset:
        return cls(config, compile_rules(config.rules), {r.id: r for r in config.rules})


class Pipeline:
    def __init__(
        self,
        *,
        ruleset: Ruleset,
        store: Store,
        extractor: Extractor,
        settings: Settings,
        clock: Callable[[], datetime],
        worker: str,
    ) -> None:
        self.ruleset = ruleset
        self.store = store
        self.extractor = extractor
        self.settings = settings
        self.clock = clock
        self.worker = worker
        # Extraction is CPU work under the GIL: one article at a time, off the event loop.
        self._ingest_lock = asyncio.Lock()
        self._activation: dict[str, datetime] = {}
        self.stopping = False  # set by the daemon on SIGTERM: stop between articles

    def use(self, ruleset: Ruleset) -> None:
        """Switch to a new config (on reload); work in progress finishes with the old one."""
        self.ruleset = ruleset

    # --- polling ---------------------------------------------------------------------------

    async def poll(self, fetcher: Fetcher, feed: FeedSpec, *, force: bool = False) -> FeedOutcome:
        """Fetch one feed and process its new entries. Never raises for a feed problem."""
        now = self.clock()
        if not self.store.claim_feed(
            feed.name, feed.url, self.worker, now, self.settings.lease, respect_backoff=not force
        ):
            state = self.store.get_feed_state(feed.name)
            if state and state.next_attempt_at and state.next_attempt_at > now:
                return FeedOutcome(
                    feed.name,
                    "waiting",
                    error=f"backing off until {state.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC",
                )
            return FeedOutcome(feed.name, "busy")
        state = self.store.get_feed_state(feed.name)
        # the store forgets a redirect target when feeds.yaml gives the feed a new address
        url = (state.permanent_url if state else None) or feed.url
        backlog = state is None or state.last_success is None  # a first successful poll
        result = await fetcher.fetch(url, state.validators if state else Validators())
        now = self.clock()
        if result.status == "error":
            return self._fetch_failed(
                feed,
                now,
                result.error or "fetch failed",
                result.retry_after,
                state,
                retryable=result.retryable,
            )
        if result.status == "not_modified":
            self.store.record_fetch_not_modified(feed.name, now, owner=self.worker)
            log.debug("feed %s: not modified", feed.name)
            return FeedOutcome(feed.name, "not_modified")
        try:  # a 10 MB feed takes seconds to parse: not on the event loop
            parsed = await in_daemon_thread(
                lambda: parse_feed(result.body, result.headers, feed), f"parse {feed.name}"
            )
        except FeedParseError as exc:
            return self._fetch_failed(feed, now, str(exc), None, state, retryable=False)
        if parsed.warning:
            log.warning("feed %s: %s", feed.name, parsed.warning)
        async with self._ingest_lock:
            outcomes = await in_daemon_thread(
                lambda: self.ingest(parsed.articles, backlog=backlog), f"ingest {feed.name}"
            )
        new = sum(1 for o in outcomes if not o.duplicate and not o.failed)
        alerts = sum(o.alerts for o in outcomes)
        failed = sum(1 for o in outcomes if o.failed)
        if failed:  # keep the old validators, so the next poll reads the feed whole again
            outcome = self._fetch_failed(
                feed,
                self.clock(),
                f"{failed} of {len(parsed.articles)} entries could not be processed (see the log)",
                None,
                state,
            )
            return replace(outcome, entries=len(parsed.articles), new=new, alerts=alerts)
        if len(outcomes) < len(parsed.articles):  # stopped part-way: fetch it all again next time
            log.info(
                "feed %s: stopped after %d of %d entries",
                feed.name,
                len(outcomes),
                len(parsed.articles),
            )
            return FeedOutcome(feed.name, "stopped", len(parsed.articles), new, alerts)
        self.store.record_fetch_success(
            feed.name,
            self.clock(),
            result.validators,
            result.permanent_url,
            len(parsed.articles),
            owner=self.worker,
        )
        if result.permanent_url:
            log.warning(
                "feed %s moved permanently to %s: update feeds.yaml",
                feed.name,
                result.permanent_url,
            )
        log.info(
            "feed %s: %d entries, %d new, %d alerts", feed.name, len(parsed.articles), new, alerts
        )
        return FeedOutcome(
            feed.name, "ok", len(parsed.articles), new, alerts, warning=parsed.warning
        )

    def _fetch_failed(
        self,
        feed: FeedSpec,
        now: datetime,
        error: str,
        retry_after: float | None,
        state: object,
        *,
        retryable: bool = True,
    ) -> FeedOutcome:
        failures = (getattr(state, "failures", 0) or 0) + 1
        # A 404 or an unreadable feed will not mend itself in a minute: back off faster.
        base = min(self.settings.feed_backoff_base, feed.interval) * (1 if retryable else 4)
        delay = backoff_delay(failures, retry_after, base=base, cap=self.settings.feed_backoff_cap)
        self.store.record_fetch_error(
            feed.name, now, error, now + timedelta(seconds=delay), owner=self.worker
        )
        log.error("feed %s: %s (failure %d, next try in %ds)", feed.name, error, failures, delay)
        return FeedOutcome(feed.name, "error", error=error)

    def ingest(self, articles: Iterable[Article], *, backlog: bool = False) -> list[ArticleOutcome]:
        """Process articles one by one. One that fails with an unexpected error (a bug) is
        logged with its traceback and skipped, so the rest of the feed still gets through.
        Stops between articles once `stopping` is set."""
        outcomes = []
        for article in articles:
            if self.stopping:
                break
            try:
                outcomes.append(self.process_article(article, backlog=backlog))
            except Exception:
                log.exception(
                    "article %r (%s) could not be processed: skipped",
                    article.title[:80],
                    article.link or article.guid,
                )
                outcomes.append(ArticleOutcome(duplicate=False, failed=True))
        return outcomes

    def process_article(self, article: Article, *, backlog: bool = False) -> ArticleOutcome:
        """Dedup, extract, match, decide and store one article with its alerts, atomically.
        `backlog`: the article comes from its feed's first successful poll."""
        keys = article_keys(article)
        if self.store.known(keys):
            return ArticleOutcome(duplicate=True)
        ruleset = self.ruleset
        now = self.clock()
        analyzer = Analyzer(self.extractor, ruleset.compiled, self.settings.household_size)
        matches = analyzer.analyse(article).matches
        rules = ruleset.by_id
        states = {}
        for m in matches:
            rule = rules[m.rule_id]
            states[m.rule_id] = RuleState(
                last_fired=self.store.last_fired(rule.id, cooldown_key(rule, m))
                if rule.cooldown
                else None,
                first_active=self._first_active(rule.id, now) if rule.new_region else None,
                regions_seen=self.store.regions_last_seen(rule.id, [p.id for p in m.places])
                if rule.new_region
                else {},
            )
        decision = decide(
            article, matches, rules, states, now=now, max_age=self.settings.max_age, backlog=backlog
        )
        drafts = [
            AlertDraft.from_match(
                a.match,
                cooldown_key=a.cooldown_key,
                targets=[(t.id, t.label) for t in self.targets(rules[a.match.rule_id].notify)],
                figure=format_figure(a.match.figure) if a.match.figure else None,
                cooldown=rules[a.match.rule_id].cooldown,
                new_places=[p.id for p in a.match.places]
                if rules[a.match.rule_id].new_region
                else (),
                window=_window(rules[a.match.rule_id]),
            )
            for a in decision.alerts
        ]
        stored = self.store.commit_article(
            article,
            keys,
            fetched_at=now,
            alerted=not decision.recorded_only,
            alerts=drafts,
            regions=decision.regions,
            now=now,
            regions_seen_at=article.published,  # a backlog entry was seen then, not now
        )
        if stored is None:  # another worker stored it between known() and now
            return ArticleOutcome(duplicate=True)
        for line in decision.held:
            log.info("article %r: %s", article.title[:80], line)
        for d in drafts:
            log.info(
                "alert %s on %r -> %s",
                d.rule_id,
                article.title[:80],
                ", ".join(label for _, label in d.targets),
            )
        return ArticleOutcome(False, tuple(matches), len(drafts), decision.held)

    def _first_active(self, rule_id: str, now: datetime) -> datetime:
        """When a rule first ran: read (or written) once per process, it never changes."""
        if rule_id not in self._activation:
            self._activation[rule_id] = self.store.rule_first_active(rule_id, now)
        return self._activation[rule_id]

    def targets(self, tags: Iterable[str]) -> tuple[Target, ...]:
        """The channels carrying any of the tags; standard output when none does."""
        found = self.ruleset.config.channels.targets(tuple(tags))
        return found or (CONSOLE_TARGET,)

    # --- delivery --------------------------------------------------------------------------

    def deliver(
        self, notifier: Notifier, limit: int = 1000, stop: Callable[[], bool] = lambda: False
    ) -> DeliveryOutcome:
        """Send due deliveries, up to `limit`; mark each sent only when the channel reported
        success. Claims small batches so that a slow channel (Apprise waits 5.5 s between two
        emails to one server) never outlives the claim's lease."""
        total = DeliveryOutcome()
        # Within one call, claim no new batch once a failed send's retry could be due again:
        # a hanging channel then costs each call one pass, not a loop of retries.
        budget = max(5.0, min(60.0, self.settings.delivery_backoff_base))
        started = time.monotonic()
        stuck: set[str] = set()  # channels that failed in this pass: not tried again in it
        while (
            total.sent + total.retried + total.failed < limit
            and not stop()
            and time.monotonic() - started < budget
        ):
            done = self._deliver_batch(notifier, min(DELIVERY_BATCH, limit), stop, stuck)
            if done == DeliveryOutcome():
                break
            total = DeliveryOutcome(
                total.sent + done.sent, total.retried + done.retried, total.failed + done.failed
            )
        return total

    def _deliver_batch(
        self, notifier: Notifier, limit: int, stop: Callable[[], bool], stuck: set[str]
    ) -> DeliveryOutcome:
        now = self.clock()
        lease = max(DELIVERY_BATCH * 30.0, self.settings.lease)
        jobs = self.store.claim_deliveries(self.worker, now, lease, limit)
        known = {t.id: t for t in self.ruleset.config.channels.all_targets()}
        known[CONSOLE_TARGET.id] = CONSOLE_TARGET
        sent = retried = failed = 0
        for job in jobs:
            if stop() or job.target_id in stuck:
                # hand it back untried: the monitor is stopping, or its channel just failed
                # (a hanging server must not cost one timeout per delivery)
                self.store.release(job.delivery_id, self.worker)
                continue
            target = known.get(job.target_id)
            if target is None:
                # Removed from channels.yaml, or mid-reload: an attempt that failed, so that
                # it goes out if the channel comes back, and fails visibly if it does not.
                result = SendResult(False, f"channel {job.target_label} is not in channels.yaml")
            else:
                result = notifier.send(target, job.message)
                if not result.ok:
                    stuck.add(job.target_id)
            label = target.label if target else job.target_label
            now = self.clock()
            attempts = job.attempts + 1
            if result.ok:
                self.store.mark_sent(job.delivery_id, self.worker, now)
                sent += 1
                log.info("alert %d sent to %s", job.alert_id, label)
            elif attempts >= self.settings.delivery_attempts:
                self.store.mark_failed(job.delivery_id, self.worker, result.error or "failed")
                failed += 1
                log.error(
                    "alert %d to %s failed for good after %d attempts: %s",
                    job.alert_id,
                    label,
                    attempts,
                    result.error,
                )
            else:
                delay = backoff_delay(
                    attempts,
                    None,
                    base=self.settings.delivery_backoff_base,
                    cap=self.settings.delivery_backoff_cap,
                )
                self.store.mark_retry(
                    job.delivery_id,
                    self.worker,
                    result.error or "failed",
                    now + timedelta(seconds=delay),
                )
                retried += 1
                log.warning(
                    "alert %d to %s failed (attempt %d), retry in %ds: %s",
                    job.alert_id,
                    label,
                    attempts,
                    delay,
                    result.error,
                )
        return DeliveryOutcome(sent, retried, failed)


def _window(rule: Rule) -> float:
    return rule.new_region.window if rule.new_region else 0.0

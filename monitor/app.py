"""The composition root: builds every part from settings. Nothing else wires parts together.

Tests build an App with injected parts (a fake clock, a recording notifier, a shared gazetteer).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from monitor.config import Config, load_config
from monitor.extract import Extractor
from monitor.fetch import Fetcher
from monitor.gazetteer import Gazetteer
from monitor.notify import (
    AppriseNotifier,
    ConsoleNotifier,
    Notifier,
    SecretMaskFilter,
    SendResult,
    Target,
)
from monitor.pipeline import Pipeline, Ruleset
from monitor.records import AlertMessage
from monitor.settings import Settings
from monitor.store import Store


def utc_now() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    """Sends to standard output for the console target and through Apprise otherwise."""

    def __init__(self, config: Config, stdout: TextIO) -> None:
        self.console = ConsoleNotifier(stdout)
        self.apprise = AppriseNotifier(config.channels)

    def send(self, target: Target, message: AlertMessage) -> SendResult:
        if target.kind == "console":
            return self.console.send(target, message)
        return self.apprise.send(target, message)


@dataclass
class App:
    settings: Settings
    config: Config
    store: Store
    pipeline: Pipeline
    notifier: Notifier
    gazetteer: Gazetteer | None
    stdout: TextIO
    environ: Mapping[str, str] = field(default_factory=dict)
    mask_filter: SecretMaskFilter | None = None

    def fetcher(self) -> Fetcher:
        s = self.settings
        return Fetcher(
            user_agent=s.user_agent,
            connect_timeout=s.connect_timeout,
            read_timeout=s.read_timeout,
            deadline=s.fetch_deadline,
            max_bytes=s.max_feed_bytes,
            concurrency=s.fetch_concurrency,
        )

    def reload(self) -> Config:
        """Read the config again and switch to it; raises ConfigError and keeps the old one."""
        config = self.read_config()
        self.apply(config)
        return config

    def read_config(self) -> Config:
        """Read and validate the config (blocking file and Apprise work); raises ConfigError."""
        return load_config(self.settings.config_dir, self.environ, self.settings.default_interval)

    def apply(self, config: Config) -> None:
        """Switch to a config read by read_config()."""
        self.config = config
        self.pipeline.use(Ruleset.build(config))
        if isinstance(self.notifier, Dispatcher):
            self.notifier = Dispatcher(config, self.stdout)
        if self.mask_filter is not None:
            self.mask_filter.update(config.channels.secrets())

    def close(self) -> None:
        self.store.close()


def load_gazetteer(settings: Settings) -> Gazetteer:
    return Gazetteer.load(
        min_population=settings.min_city_population, cache_dir=settings.cache_path
    )


def build(
    settings: Settings,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] = utc_now,
    gazetteer: Gazetteer | None = None,
    notifier: Notifier | None = None,
    stdout: TextIO | None = None,
    config: Config | None = None,
) -> App:
    """Everything the daemon needs, from settings. Raises ConfigError for bad config."""
    environ = dict(os.environ if environ is None else environ)
    stdout = stdout or sys.stdout
    config = config or load_config(settings.config_dir, environ, settings.default_interval)
    store = Store.open(settings.db_url)  # first: a database it cannot open fails fast
    try:
        gazetteer = gazetteer or load_gazetteer(settings)
    except BaseException:
        store.close()
        raise
    pipeline = Pipeline(
        ruleset=Ruleset.build(config),
        store=store,
        extractor=Extractor(gazetteer),
        settings=settings,
        clock=clock,
        worker=settings.worker,
    )
    return App(
        settings=settings,
        config=config,
        store=store,
        pipeline=pipeline,
        notifier=notifier or Dispatcher(config, stdout),
        gazetteer=gazetteer,
        stdout=stdout,
        environ=environ,
    )


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a line is logged, not when logging was set up
    (a test's captured stream may be closed by the time a background thread logs)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.stack_info:
            entry["stack"] = record.stack_info  # masked by SecretMaskFilter too
        if record.exc_text:  # already formatted, and masked, by SecretMaskFilter
            entry["error"] = record.exc_text
        elif record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(settings: Settings, secrets: frozenset[str] = frozenset()) -> SecretMaskFilter:
    """Log to standard error in text or JSON lines, with every known secret masked."""
    handler = _StderrHandler()
    if settings.log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    mask = SecretMaskFilter(secrets)
    handler.addFilter(mask)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # the libraries are chatty at INFO; their warnings still show
    for name in ("apprise", "aiohttp", "sqlalchemy"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # The daemon listens to APScheduler's job events and logs them itself, with tracebacks
    # and without repeating a skipped run every time: APScheduler's own lines would double them.
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
    return mask

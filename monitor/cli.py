"""The command line: monitor run | check | feeds | alerts | notify-test | replay | test-rule | eval."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from monitor import __version__
from monitor.analysis import Analyzer, article_dict
from monitor.app import App, build, load_gazetteer, setup_logging, utc_now
from monitor.config import Config, ConfigError, load_config
from monitor.durations import format_duration
from monitor.evaluate import (
    LabelledItem,
    LabelledSetError,
    Prediction,
    evaluate,
    format_report,
    load_labelled,
    report_as_dict,
)
from monitor.extract import Extractor
from monitor.fetch import Fetcher
from monitor.figures import format_figure
from monitor.match import compile_rules
from monitor.notify import CONSOLE_TARGET, SecretMaskFilter
from monitor.parse import FeedParseError, parse_feed
from monitor.records import AlertMessage, Article, FeedSpec
from monitor.settings import Settings, load_settings
from monitor.yamlio import YamlError

log = logging.getLogger("monitor")
EVALUATED_RULES = ("health-care-attack", "displacement")


class CliError(Exception):
    """A problem to report in one line (or a few) and exit non-zero."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings(
            config_dir=getattr(args, "config_dir", None),
            database_url=getattr(args, "database_url", None),
            data_dir=getattr(args, "data_dir", None),
            log_level=getattr(args, "log_level", None),
        )
    except ValidationError as exc:
        print(f"monitor: bad settings:\n{_validation_text(exc)}", file=sys.stderr)
        return 2
    except YamlError as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return 2
    args.mask_filter = setup_logging(settings)
    try:
        result: int = args.handler(args, settings)
        return result
    except (ConfigError, CliError) as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _validation_text(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]) or "settings"
        lines.append(f"  MONITOR_{name.upper()} ({name}): {err['msg']}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config-dir",
        type=Path,
        default=argparse.SUPPRESS,
        help="folder with feeds.yaml, rules.yaml, channels.yaml (env MONITOR_CONFIG_DIR; default ./config)",
    )
    common.add_argument(
        "--data-dir",
        type=Path,
        default=argparse.SUPPRESS,
        help="folder for the default SQLite database (env MONITOR_DATA_DIR; default ./data)",
    )
    common.add_argument(
        "--log-level", default=argparse.SUPPRESS, help="DEBUG, INFO, WARNING or ERROR"
    )
    parser = argparse.ArgumentParser(
        prog="monitor",
        parents=[common],
        description="Watches news feeds for humanitarian emergencies and alerts the right people.",
    )
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", parents=[common], help="run the daemon (or one cycle with --once)")
    p.add_argument("--once", action="store_true", help="poll every feed once, deliver, and exit")
    p.add_argument("--database-url", default=None, help="SQLAlchemy URL (env MONITOR_DATABASE_URL)")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("health", parents=[common], help="exit 0 if the daemon is alive")
    p.set_defaults(handler=cmd_health)

    p = sub.add_parser("check", parents=[common], help="validate all config; exit 1 on any error")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("feeds", parents=[common], help="status of every feed")
    p.add_argument("--database-url", default=None)
    p.set_defaults(handler=cmd_feeds)

    p = sub.add_parser("alerts", parents=[common], help="recent alerts and their delivery state")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--database-url", default=None)
    p.set_defaults(handler=cmd_alerts)

    p = sub.add_parser("notify-test", parents=[common], help="send a test alert to the channels")
    p.add_argument("--tag", action="append", help="only channels with this tag (repeatable)")
    p.set_defaults(handler=cmd_notify_test)

    p = sub.add_parser(
        "replay",
        parents=[common],
        help="run fetch..match on feed files or URLs; no database, no notifications",
    )
    p.add_argument("inputs", nargs="+", metavar="PATH_OR_URL")
    p.add_argument("--json", action="store_true", help="one JSON object per article, one per line")
    p.set_defaults(handler=cmd_replay)

    p = sub.add_parser("test-rule", parents=[common], help="does a rule fire on a text, and why")
    p.add_argument("rule_id", metavar="RULE_ID")
    p.add_argument("text", nargs="?", help="the text (default: read standard input)")
    p.add_argument("--title", default="", help="a headline to go with the text")
    p.set_defaults(handler=cmd_test_rule)

    p = sub.add_parser("eval", parents=[common], help="precision and recall on a labelled set")
    p.add_argument(
        "file", type=Path, metavar="FILE", help="YAML list or JSON lines of labelled items"
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=cmd_eval)
    return parser


def _load_config(settings: Settings, args: argparse.Namespace) -> Config:
    """The config, with its secrets added to the log filter so no log line shows them."""
    config = load_config(settings.config_dir, os.environ, settings.default_interval)
    mask_filter: SecretMaskFilter | None = getattr(args, "mask_filter", None)
    if mask_filter is not None:
        mask_filter.update(config.channels.secrets())
    for problem in config.problems:
        log.warning("%s", problem)
    return config


def _build(settings: Settings, args: argparse.Namespace) -> App:
    config = _load_config(settings, args)
    try:
        app = build(settings, config=config)
    except OSError as exc:
        raise CliError(f"cannot open the database {settings.db_url}: {exc}") from exc
    app.mask_filter = getattr(args, "mask_filter", None)
    return app


# --- run ---------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    app = _build(settings, args)
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


# --- status ------------------------------------------------------------------------------------


def _open_store(settings: Settings) -> Any:
    from monitor.store import Store

    return Store.open(settings.db_url)


def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    store = _open_store(settings)
    try:
        states = {s.name: s for s in store.feed_states()}
    finally:
        store.close()
    try:
        configured = [f.name for f in _load_config(settings, args).feeds]
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

    config = _load_config(settings, args)
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


# --- replay / test-rule / eval -------------------------------------------------------------------


def _analyzer(settings: Settings, config: Config) -> Analyzer:
    gazetteer = load_gazetteer(settings)
    return Analyzer(Extractor(gazetteer), compile_rules(config.rules), settings.household_size)


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    config = _load_config(settings, args)
    analyzer = _analyzer(settings, config)
    failed = 0
    out = sys.stdout
    for name, result in asyncio.run(_read_inputs(args.inputs, settings)):
        if isinstance(result, str):
            print(f"monitor replay: {name}: {result}", file=sys.stderr)
            failed += 1
            continue
        body, headers = result
        feed = FeedSpec(name=name, url=name, interval=0)
        try:
            parsed = parse_feed(body, headers, feed)
        except FeedParseError as exc:
            print(f"monitor replay: {name}: {exc}", file=sys.stderr)
            failed += 1
            continue
        if parsed.warning:
            print(f"monitor replay: {name}: {parsed.warning}", file=sys.stderr)
        for article in parsed.articles:
            analysis = analyzer.analyse(article)
            if args.json:
                out.write(json.dumps(article_dict(article, analysis), ensure_ascii=False) + "\n")
            else:
                _print_analysis(article, analysis, out)
    return 1 if failed else 0


async def _read_inputs(
    inputs: Sequence[str], settings: Settings
) -> list[tuple[str, tuple[bytes, dict[str, str]] | str]]:
    """Each input's bytes and headers, or a message saying why it could not be read."""
    out: list[tuple[str, tuple[bytes, dict[str, str]] | str]] = []
    urls = [i for i in inputs if i.startswith(("http://", "https://"))]
    fetched = {}
    if urls:
        async with Fetcher(
            user_agent=settings.user_agent,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            deadline=settings.fetch_deadline,
            max_bytes=settings.max_feed_bytes,
        ) as fetcher:
            results = await asyncio.gather(*(fetcher.fetch(u) for u in urls))
        fetched = dict(zip(urls, results, strict=True))
    for name in inputs:
        if name in fetched:
            r = fetched[name]
            out.append(
                (name, (r.body, r.headers) if r.status == "ok" else (r.error or "fetch failed"))
            )
            continue
        path = Path(name)
        try:
            out.append((name, (path.read_bytes(), {})))
        except OSError as exc:
            out.append((name, f"cannot read: {exc.strerror or exc}"))
    return out


def _print_analysis(article: Article, analysis: Any, out: TextIO) -> None:
    out.write(f"* {article.title or article.link or article.guid}\n")
    if article.link:
        out.write(f"  {article.link}\n")
    if analysis.matches:
        for m in analysis.matches:
            out.write(f"  FIRES {m.rule_id} [{m.severity}]: {m.explain}\n")
            if m.sentence:
                out.write(f'    "{m.sentence}"\n')
    else:
        out.write("  no rule fires\n")
    if analysis.extraction.figures:
        out.write(
            "  figures: " + "; ".join(format_figure(f) for f in analysis.extraction.figures) + "\n"
        )
    if analysis.extraction.places:
        out.write(
            "  places: "
            + ", ".join(
                f"{p.name} ({p.kind}, {p.country_code})" for p in analysis.extraction.places
            )
            + "\n"
        )


def cmd_test_rule(args: argparse.Namespace, settings: Settings) -> int:
    config = _load_config(settings, args)
    rule = config.rule(args.rule_id)
    if rule is None:
        known = ", ".join(r.id for r in config.rules)
        raise CliError(f"no rule '{args.rule_id}' in {settings.config_dir}; rules: {known}")
    text = args.text if args.text is not None else sys.stdin.read()
    if not text.strip():
        raise CliError("no text: give it as an argument or on standard input")
    gazetteer = load_gazetteer(settings)
    analyzer = Analyzer(Extractor(gazetteer), compile_rules([rule]), settings.household_size)
    article = Article(
        feed="test-rule",
        guid=None,
        link=None,
        title=args.title,
        summary=text.strip(),
        content="",
        published=datetime.now(UTC),
    )
    analysis = analyzer.analyse(article)
    out = sys.stdout
    if analysis.matches:
        m = analysis.matches[0]
        out.write(f"{rule.id} FIRES [{m.severity}] {rule.title}\n  why: {m.explain}\n")
        if m.sentence:
            out.write(f'  sentence: "{m.sentence}"\n')
        if rule.new_region:
            out.write(
                "  (the daemon alerts only for places not seen within the window; "
                f"{format_duration(rule.new_region.window)})\n"
            )
    else:
        out.write(f"{rule.id} does not fire on this text\n")
    figures = analysis.extraction.figures
    places = analysis.extraction.places
    out.write(
        "  figures: "
        + ("; ".join(format_figure(f) + f" ('{f.phrase}')" for f in figures) or "none")
        + "\n"
    )
    out.write(
        "  places: "
        + (", ".join(f"{p.name} ({p.kind}, {p.country_code})" for p in places) or "none")
        + "\n"
    )
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    try:
        items = load_labelled(args.file)
    except LabelledSetError as exc:
        raise CliError(str(exc)) from exc
    config = _load_config(settings, args)
    analyzer = _analyzer(settings, config)
    report = evaluate(items, lambda item: predict(analyzer, item), EVALUATED_RULES)
    if args.json:
        print(json.dumps(report_as_dict(report), ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
    return 0


def predict(analyzer: Analyzer, item: LabelledItem) -> Prediction:
    """What the monitor says about one labelled item, in the evaluator's terms."""
    article = Article(
        feed="eval",
        guid=item.id,
        link=None,
        title=item.title,
        summary=item.text,
        content="",
        published=None,
        language=item.lang,
    )
    analysis = analyzer.analyse(article)
    head = analysis.headline("displaced", analyzer.household_size)
    return Prediction(
        rules=frozenset(analysis.rule_ids()),
        displaced=(head.value, head.unit) if head else None,
        places=tuple((p.name, p.id, p.mention) for p in analysis.extraction.places),
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

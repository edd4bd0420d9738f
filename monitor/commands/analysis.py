"""monitor replay, test-rule and eval: the pipeline's reading of articles, without side effects."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from monitor.analysis import Analyzer, article_dict
from monitor.app import load_gazetteer
from monitor.commands.common import CliError, load_config_for
from monitor.config import Config
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
from monitor.parse import FeedParseError, parse_feed
from monitor.records import Article, FeedSpec
from monitor.settings import Settings

EVALUATED_RULES = ("health-care-attack", "displacement")


# --- replay / test-rule / eval -------------------------------------------------------------------


def _analyzer(settings: Settings, config: Config) -> Analyzer:
    gazetteer = load_gazetteer(settings)
    return Analyzer(Extractor(gazetteer), compile_rules(config.rules), settings.household_size)


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    config = load_config_for(settings, args)
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
    config = load_config_for(settings, args)
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
    config = load_config_for(settings, args)
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

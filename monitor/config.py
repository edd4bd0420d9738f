"""The config a user edits: feeds.yaml, rules.yaml (+ rules.d/*.yaml) and channels.yaml.

Loading collects every problem with file and line. A daemon that reloads keeps its last good
config when the new one has errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from monitor import yamlio
from monitor.durations import parse_duration
from monitor.notify import Channels, check_channels, load_channels
from monitor.records import FeedSpec
from monitor.rules import Problem, Rule, read_rules

FEEDS_FILE = "feeds.yaml"
RULES_FILE = "rules.yaml"
RULES_DIR = "rules.d"
CHANNELS_FILE = "channels.yaml"
_NAME = re.compile(r"^[\w][\w .:/()&'-]*$")


class ConfigError(Exception):
    """The config cannot be used; `problems` says every reason with file:line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Config:
    feeds: tuple[FeedSpec, ...]
    rules: tuple[Rule, ...]
    channels: Channels
    problems: tuple[Problem, ...] = ()  # warnings only: a Config with errors is never built
    files: tuple[Path, ...] = field(default=())  # what it was read from, for reload on change

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def read_feeds(
    data: object, source: str, default_interval: float
) -> tuple[list[FeedSpec], list[Problem]]:
    """feeds.yaml: `feeds:` a list of {name, url, interval, tags, language}."""
    problems: list[Problem] = []
    if data is None:
        return [], [Problem(source, None, "no feeds: add a 'feeds:' list", "warning")]
    if not isinstance(data, yamlio.Mapping) or not isinstance(data.get("feeds"), list):
        return [], [
            Problem(
                source,
                getattr(data, "line", 1),
                "feeds.yaml must be a mapping with a 'feeds:' list",
            )
        ]
    items = data["feeds"]
    lines = getattr(items, "item_lines", [data.line_of("feeds")] * len(items))
    feeds: list[FeedSpec] = []
    names: dict[str, int] = {}
    for item, line in zip(items, lines, strict=True):
        if not isinstance(item, yamlio.Mapping):
            problems.append(Problem(source, line, "each feed must be a mapping with name and url"))
            continue
        before = len(problems)

        def bad(key: str | None, message: str, item: yamlio.Mapping = item) -> None:
            problems.append(Problem(source, item.line_of(key) if key else item.line, message))

        for key in item:
            if key not in ("name", "url", "interval", "tags", "language"):
                bad(key, f"unknown feed key '{key}' (expected name, url, interval, tags, language)")
        name = str(item.get("name") or "").strip()
        url = str(item.get("url") or "").strip()
        if not name:
            bad(None, "feed is missing 'name'")
        elif not _NAME.match(name):
            bad("name", f"feed name {name!r} has characters that are not allowed")
        elif name in names:
            bad("name", f"feed name '{name}' is used twice (first on line {names[name]})")
        else:
            names[name] = item.line_of("name")
        if not url:
            bad(None, f"feed '{name}' is missing 'url'")
        elif not _web_address(url):
            bad("url", f"feed url {url!r} must be an http:// or https:// address")
        interval = default_interval
        if item.get("interval") is not None:
            try:
                interval = parse_duration(item["interval"])
                if interval < 1:
                    bad("interval", "interval must be at least 1 second")
            except ValueError as exc:
                bad("interval", str(exc))
        tags = item.get("tags") or []
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not all(isinstance(t, str | int) for t in tags):
            bad("tags", "tags must be a list of words")
            tags = []
        language = item.get("language")
        if language is not None and not (
            isinstance(language, str) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]+)*", language)
        ):
            bad("language", f"language {language!r} must be a code like en, fr, es or ar")
        if len(problems) == before:
            feeds.append(
                FeedSpec(
                    name,
                    url,
                    interval,
                    tuple(str(t) for t in tags),
                    str(language) if language else None,
                )
            )
    return feeds, problems


def _web_address(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # 'http://[::1/x': not even a URL
        return False


def _rule_feed_problems(rules: list[Rule], feeds: list[FeedSpec]) -> list[Problem]:
    """Warnings for rule filters naming feeds or tags that feeds.yaml does not have: such a
    rule would silently never fire."""
    names = {f.name for f in feeds}
    tags = {t for f in feeds for t in f.tags}
    out = []
    for rule in rules:
        for name in rule.feeds:
            if name not in names:
                out.append(
                    Problem(
                        rule.source,
                        rule.line,
                        f"rule '{rule.id}': no feed is named '{name}'",
                        "warning",
                    )
                )
        for tag in rule.feed_tags:
            if tag not in tags:
                out.append(
                    Problem(
                        rule.source,
                        rule.line,
                        f"rule '{rule.id}': no feed has the tag '{tag}'",
                        "warning",
                    )
                )
    return out


def rule_files(config_dir: Path) -> list[Path]:
    files = [config_dir / RULES_FILE] if (config_dir / RULES_FILE).is_file() else []
    extra = config_dir / RULES_DIR
    if extra.is_dir():
        files.extend(
            sorted(p for p in extra.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        )
    return files


def load_rules(config_dir: Path) -> tuple[list[Rule], list[Problem]]:
    """Every rule of rules.yaml and rules.d/*.yaml; ids must be unique across files."""
    rules: list[Rule] = []
    problems: list[Problem] = []
    files = rule_files(config_dir)
    if not files:
        problems.append(
            Problem(
                str(config_dir / RULES_FILE),
                None,
                "no rules file: nothing would ever alert",
                "warning",
            )
        )
    seen: dict[str, Rule] = {}
    for path in files:
        try:
            data = yamlio.load(path)
        except yamlio.YamlError as exc:
            problems.append(Problem(exc.source, exc.line, exc.message))
            continue
        found, found_problems = read_rules(data, str(path))
        problems.extend(found_problems)
        for rule in found:
            if rule.id in seen:
                first = seen[rule.id]
                problems.append(
                    Problem(
                        str(path),
                        rule.line,
                        f"rule id '{rule.id}' is already used at {first.source}:{first.line}",
                    )
                )
                continue
            seen[rule.id] = rule
            rules.append(rule)
    return rules, problems


def load_config(
    config_dir: Path, environ: AbcMapping[str, str], default_interval: float = 600
) -> Config:
    """Read and validate all config. Raises ConfigError listing every error; warnings are kept
    on the Config."""
    problems: list[Problem] = []
    if not config_dir.is_dir():
        raise ConfigError(
            [
                Problem(
                    str(config_dir),
                    None,
                    "config folder not found (set --config-dir or MONITOR_CONFIG_DIR)",
                )
            ]
        )
    feeds_path = config_dir / FEEDS_FILE
    feeds: list[FeedSpec] = []
    if feeds_path.is_file():
        try:
            feeds, found = read_feeds(yamlio.load(feeds_path), str(feeds_path), default_interval)
            problems.extend(found)
        except yamlio.YamlError as exc:
            problems.append(Problem(exc.source, exc.line, exc.message))
    else:
        problems.append(
            Problem(str(feeds_path), None, "no feeds file: nothing will be polled", "warning")
        )
    rules, found = load_rules(config_dir)
    problems.extend(found)
    channels_path = config_dir / CHANNELS_FILE
    channels = Channels()
    channel_errors = check_channels(channels_path, environ)
    if channel_errors:
        problems.extend(Problem(str(e.path), e.line, e.message) for e in channel_errors)
    else:
        channels = load_channels(channels_path, environ)
    problems.extend(_rule_feed_problems(rules, feeds))
    if not problems or all(p.level == "warning" for p in problems):
        for rule in rules:
            if not channels.is_empty() and not channels.targets(rule.notify):
                problems.append(
                    Problem(
                        rule.source,
                        rule.line,
                        f"rule '{rule.id}' notifies {', '.join(rule.notify)} but no channel has that tag: "
                        "its alerts will be printed on standard output",
                        "warning",
                    )
                )
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise ConfigError(errors + [p for p in problems if p.level == "warning"])
    files = [feeds_path, channels_path, *rule_files(config_dir)]
    return Config(tuple(feeds), tuple(rules), channels, tuple(problems), tuple(files))

"""Config reading: durations, feeds.yaml, and the checks that keep a rule from silently never
firing. Every problem names its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, load_config
from monitor.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (90, 90.0),
        ("30s", 30.0),
        ("10m", 600.0),
        ("1h30m", 5400.0),
        ("2d", 172800.0),
        ("1.5h", 5400.0),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "ten minutes", "5 parsecs", "-3", "inf", "nan", 1e15, True, "3m2"]
)
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_format_duration() -> None:
    assert [format_duration(s) for s in (45, 600, 5400, 172800)] == ["45s", "10m", "1h30m", "2d"]


def _write(tmp_path: Path, feeds: str, rules: str) -> Path:
    (tmp_path / "feeds.yaml").write_text(feeds)
    (tmp_path / "rules.yaml").write_text(rules)
    return tmp_path


GOOD_FEEDS = "feeds:\n  - name: wire\n    url: https://x.org/rss\n    tags: [news]\n"
GOOD_RULE = "rules:\n  - id: r\n    any: [flood]\n    notify: [alerts]\n"


def test_feed_problems_are_all_reported(tmp_path: Path) -> None:
    feeds = (
        "feeds:\n"
        "  - name: a\n    url: https://x.org/a\n    interval: .inf\n"
        "  - name: a\n    url: https://x.org/b\n"
        "  - name: c\n    url: https://x.org/c\n    language: [en, fr]\n"
        "  - name: d\n    url: https://x.org/d\n    tags: [{a: 1}]\n"
        "  - url: https://x.org/e\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, feeds, GOOD_RULE), {})
    text = str(err.value)
    feeds_path = tmp_path / "feeds.yaml"
    assert f"{feeds_path}:4: not a duration" in text
    assert f"{feeds_path}:5: feed name 'a' is used twice (first on line 2)" in text
    assert f"{feeds_path}:9: language" in text
    assert f"{feeds_path}:12: tags must be a list of words" in text
    assert f"{feeds_path}:13: feed is missing 'name'" in text


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("any: ['???']", "has no letters or digits"),
        ("figure: {kind: displaced, at_least: -5}", "0 or more"),
        ("any: [x]\n    cooldown: nan", "finite"),
        ("any: [x]\n    new_region: {window: .inf}", "finite"),
        ("figure: {kind: displaced, at_least: true}", "0 or more"),
        ("figure: {kind: displaced, at_least: 0.9}", "0 or more"),
    ],
)
def test_rules_that_could_never_work_are_refused(tmp_path: Path, rule: str, message: str) -> None:
    rules = f"rules:\n  - id: r\n    {rule}\n    notify: [alerts]\n"
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, GOOD_FEEDS, rules), {})
    assert message in str(err.value)
    assert f"{tmp_path / 'rules.yaml'}:" in str(err.value)


def test_rule_filters_naming_unknown_feeds_or_tags_warn(tmp_path: Path) -> None:
    rules = "rules:\n  - id: r\n    any: [x]\n    feeds: [wire, wyre]\n    feed_tags: [news, health]\n    notify: [alerts]\n"
    config = load_config(_write(tmp_path, GOOD_FEEDS, rules), {})
    problems = [str(p) for p in config.problems]
    assert f"{tmp_path / 'rules.yaml'}:2: warning: rule 'r': no feed is named 'wyre'" in problems
    assert (
        f"{tmp_path / 'rules.yaml'}:2: warning: rule 'r': no feed has the tag 'health'" in problems
    )
    assert not any("'wire'" in p or "'news'" in p for p in problems)


def test_missing_config_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config folder not found"):
        load_config(tmp_path / "nowhere", {})


def test_a_feed_url_that_is_not_even_a_url(tmp_path: Path) -> None:
    feeds = 'feeds:\n  - name: a\n    url: "http://[::1/x"\n'
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, feeds, GOOD_RULE), {})
    assert f"{tmp_path / 'feeds.yaml'}:3: feed url" in str(err.value)

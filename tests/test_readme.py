"""The README's promises are checked here, so they do not rot."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from monitor import yamlio
from monitor.analysis import Analyzer
from monitor.extract import Extractor
from monitor.gazetteer import Gazetteer
from monitor.match import compile_rules
from monitor.notify import load_channels
from monitor.records import Article
from monitor.rules import read_rules
from monitor.settings import settings_table

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README, re.S)


def test_every_setting_is_in_the_table() -> None:
    for name, default, _ in settings_table():
        row = f"| `{name}` | " + (f"`{default}`" if default else "")
        assert row in README, f"README settings table is missing or outdated for {name}"


def test_the_rule_example_is_valid_and_fires(shared_gazetteer: Gazetteer) -> None:
    rule_block = next(b for b in _yaml_blocks() if b.startswith("rules:"))
    rules, problems = read_rules(yamlio.loads(rule_block, "README.md"), "README.md")
    assert problems == []
    analyzer = Analyzer(Extractor(shared_gazetteer), compile_rules(rules))
    text = "Gunmen looted and burned a health centre near Djibo, in Burkina Faso, on Friday."
    article = Article("t", None, None, "", text, "", datetime.now(UTC))
    assert [m.rule_id for m in analyzer.analyse(article).matches] == ["clinic-attack-sahel"]
    calm = Article("t", None, None, "", "A clinic opened in Mopti, Mali.", "", None)
    assert analyzer.analyse(calm).matches == ()


def test_the_channel_example_loads(tmp_path: Path) -> None:
    block = next(b for b in _yaml_blocks() if b.startswith("version: 1"))
    path = tmp_path / "channels.yaml"
    path.write_text(block)
    env = {
        "SLACK_WEBHOOK": "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "SMTP_USER": "monitor",
        "SMTP_PASSWORD": "a-long-secret-password",
    }
    channels = load_channels(path, env)
    assert len(channels.targets(["alerts"])) == 2
    assert all("a-long-secret-password" not in t.label for t in channels.all_targets())


def test_the_two_commands_are_the_ones_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = "pip install -e '.[dev]' && pytest"
    assert f"{test_command}               # the whole test suite" in README
    assert f"\n{test_command}\n" in ci
    assert "pip install -e '.[dev]' && monitor run --once" in README

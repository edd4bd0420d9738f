"""Rules: reading (file:line problems) and the shipped rules' verdicts as a data table."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor import yamlio
from monitor.analysis import Analyzer
from monitor.config import ConfigError, load_config, load_rules
from monitor.extract import Extractor
from monitor.gazetteer import Gazetteer
from monitor.match import compile_rules
from monitor.records import Article, Extraction, Sentence
from monitor.rules import read_rules

ROOT = Path(__file__).resolve().parent.parent
CASES = yamlio.load(ROOT / "tests" / "data" / "rule_cases.yaml")


@pytest.fixture(scope="module")
def shipped(shared_gazetteer: Gazetteer) -> dict[str, Analyzer]:
    config = load_config(ROOT / "config", {})
    return {r.id: Analyzer(Extractor(shared_gazetteer), compile_rules([r])) for r in config.rules}


@pytest.mark.parametrize("case", CASES, ids=[f"{c['rule']}-{i:02d}" for i, c in enumerate(CASES)])
def test_shipped_rule_verdict(case: dict[str, Any], shipped: dict[str, Analyzer]) -> None:
    article = Article("t", None, None, "", case["text"], "", datetime.now(UTC))
    analysis = shipped[case["rule"]].analyse(article)
    fired = bool(analysis.matches)
    assert fired == case["fires"], f"{case['note']}: {[m.explain for m in analysis.matches]}"


def _rules(text: str) -> tuple[list[Any], list[str]]:
    rules, problems = read_rules(yamlio.loads(text, "r.yaml"), "r.yaml")
    return rules, [str(p) for p in problems]


def test_rule_problems_name_file_and_line() -> None:
    _, problems = _rules(
        """rules:
  - id: a
    any: [hospital]
    notfy: [alerts]
  - id: b
    any: ["sh*ll"]
    notify: [alerts]
    severity: urgent
    within: -2
"""
    )
    assert "r.yaml:4: unknown key 'notfy' (did you mean 'notify'?)" in problems
    assert "r.yaml:2: rule 'a' has no 'notify' tags: its alerts would go nowhere" in problems
    assert any(p.startswith("r.yaml:6:") and "'*'" in p for p in problems)
    assert any(p.startswith("r.yaml:8:") and "severity" in p for p in problems)
    assert any(p.startswith("r.yaml:9:") and "within" in p for p in problems)


def test_rule_without_condition_or_id_is_refused() -> None:
    rules, problems = _rules("rules:\n  - title: nothing\n    notify: [x]\n")
    assert rules == []
    assert "r.yaml:2: rule is missing 'id'" in problems
    assert any("has no condition" in p for p in problems)


def test_short_stem_refused() -> None:
    _, problems = _rules("rules:\n  - id: a\n    any: [ho*]\n    notify: [x]\n")
    assert any("shorter than 3" in p for p in problems)


def test_duplicate_rule_ids_across_files(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text("rules:\n  - id: a\n    any: [x]\n    notify: [t]\n")
    (tmp_path / "rules.d").mkdir()
    (tmp_path / "rules.d" / "more.yaml").write_text(
        "rules:\n  - id: b\n    any: [y]\n    notify: [t]\n  - id: a\n    any: [z]\n    notify: [t]\n"
    )
    rules, problems = load_rules(tmp_path)
    assert [r.id for r in rules] == ["a", "b"]
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'rules.d' / 'more.yaml'}:5: rule id 'a' is already used at "
        f"{tmp_path / 'rules.yaml'}:2"
    ]


def test_broken_yaml_is_reported_with_line(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    (tmp_path / "rules.yaml").write_text("rules:\n  - id: a\n    any: [x\n  - id: b\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path, {})
    assert f"{tmp_path / 'rules.yaml'}:" in str(err.value)
    assert "YAML syntax error" in str(err.value)


def _match(rule_yaml: str, text: str) -> list[str]:
    rules, problems = _rules(rule_yaml)
    assert not problems
    sentences = (Sentence("summary", 0, text),)
    article = Article("f", None, None, "", text, "", None)
    return [m.rule_id for m in compile_rules(rules).match(article, Extraction(sentences, (), ()))]


def test_within_limits_distance() -> None:
    rule = "rules:\n  - id: a\n    all: [[hospital], [shelled]]\n    within: 2\n    notify: [t]\n"
    assert _match(rule, "the hospital was shelled") == ["a"]
    assert _match(rule, "the hospital near the old bridge was later shelled") == []


def test_phrase_and_stem_terms() -> None:
    rule = "rules:\n  - id: a\n    any: ['health work*']\n    notify: [t]\n"
    assert _match(rule, "Two health workers were detained.") == ["a"]
    assert _match(rule, "Health officials worked late.") == []


def test_none_vetoes_the_sentence() -> None:
    rule = "rules:\n  - id: a\n    any: [flood*]\n    none: [drill]\n    notify: [t]\n"
    assert _match(rule, "Floods hit the valley.") == ["a"]
    assert _match(rule, "A flood drill was held.") == []


def test_feed_filters() -> None:
    rules, _ = _rules(
        "rules:\n  - id: a\n    any: [cholera]\n    feed_tags: [health]\n    notify: [t]\n"
    )
    compiled = compile_rules(rules)
    sentences = (Sentence("title", 0, "Cholera spreads"),)
    tagged = Article("f", None, None, "Cholera spreads", "", "", None, feed_tags=("health",))
    untagged = Article("f", None, None, "Cholera spreads", "", "", None)
    assert [m.rule_id for m in compiled.match(tagged, Extraction(sentences, (), ()))] == ["a"]
    assert compiled.match(untagged, Extraction(sentences, (), ())) == []

"""Extract + match as one step, and the views of its result that commands print.

Used by the pipeline, `monitor replay`, `monitor test-rule` and `monitor eval`, so that all of
them read articles exactly the same way. Pure given a gazetteer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.extract import Extractor
from monitor.figures import format_figure
from monitor.match import CompiledRules
from monitor.records import Article, Extraction, Figure, Match, Place


@dataclass(frozen=True, slots=True)
class Analysis:
    extraction: Extraction
    matches: tuple[Match, ...]

    def rule_ids(self) -> list[str]:
        return [m.rule_id for m in self.matches]

    def headline(self, kind: str = "displaced", household_size: float = 5.0) -> Figure | None:
        """The largest figure of a kind (in people), the one an analyst would quote."""
        found = [f for f in self.extraction.figures if f.kind == kind]
        return max(found, key=lambda f: f.people(household_size)) if found else None


@dataclass(frozen=True)
class Analyzer:
    extractor: Extractor
    compiled: CompiledRules
    household_size: float = 5.0

    def analyse(self, article: Article) -> Analysis:
        extraction = self.extractor.extract(article)
        matches = self.compiled.match(article, extraction, self.household_size)
        return Analysis(extraction, tuple(matches))


def figure_dict(f: Figure) -> dict[str, Any]:
    return {
        "kind": f.kind,
        "value": f.value,
        "value_max": f.value_max,
        "unit": f.unit,
        "exact": f.exact,
        "qualifier": f.qualifier,
        "phrase": f.phrase,
        "text": format_figure(f),
    }


def place_dict(p: Place) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "kind": p.kind,
        "country_code": p.country_code,
        "admin1": p.admin1,
        "admin1_id": p.admin1_id,
        "mention": p.mention,
    }


def match_dict(m: Match) -> dict[str, Any]:
    return {
        "rule": m.rule_id,
        "title": m.rule_title,
        "severity": m.severity,
        "sentence": m.sentence,
        "terms": list(m.terms),
        "figure": figure_dict(m.figure) if m.figure else None,
        "places": [p.id for p in m.places],
        "explain": m.explain,
    }


def article_dict(article: Article, analysis: Analysis) -> dict[str, Any]:
    """The JSON object `monitor replay --json` prints for one article (a stable contract:
    keys are only ever added)."""
    return {
        "guid": article.guid,
        "link": article.link,
        "title": article.title,
        "feed": article.feed,
        "published": article.published.isoformat() if article.published else None,
        "rules": analysis.rule_ids(),
        "figures": [figure_dict(f) for f in analysis.extraction.figures],
        "places": [place_dict(p) for p in analysis.extraction.places],
        "explain": [m.explain for m in analysis.matches],
        "matches": [match_dict(m) for m in analysis.matches],
    }

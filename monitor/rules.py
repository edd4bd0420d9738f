"""Rules as users write them in rules.yaml / rules.d/*.yaml, read into validated records.

Reading collects every problem with its file and line instead of stopping at the first, so that
`monitor check` can list them all. Matching lives in monitor.match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from monitor.durations import parse_duration
from monitor.records import Field, FigureKind, PlaceKind
from monitor.yamlio import Mapping, Sequence

SEVERITIES = ("info", "low", "medium", "high", "critical")
FIELDS: tuple[Field, ...] = ("title", "summary", "content")
FIGURE_KINDS: tuple[FigureKind, ...] = (
    "displaced", "killed", "injured", "missing", "affected", "in_need",
)  # fmt: skip
LEVELS: tuple[PlaceKind, ...] = ("country", "region", "city")
COOLDOWN_BY = ("rule", "country", "region", "place", "story")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a config file."""

    source: str
    line: int | None
    message: str
    level: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.level + ': ' if self.level == 'warning' else ''}{self.message}"


@dataclass(frozen=True, slots=True)
class FigureCondition:
    kind: FigureKind
    at_least: int  # people; households are converted with the household size


@dataclass(frozen=True, slots=True)
class PlaceCondition:
    include: tuple[str, ...] = ()  # names, ids ('region:SY-ID') or ISO country codes
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NewRegion:
    level: PlaceKind = "region"
    window: float = 30 * 86400  # a place not seen for this long is new again
    baseline: float = 86400  # after a rule first runs, places are learned, not alerted, this long


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule. Term lists are as written; monitor.match compiles them."""

    id: str
    title: str
    severity: str
    notify: tuple[str, ...]  # Apprise tags
    source: str  # file the rule came from
    line: int  # line of the rule in that file
    any: tuple[str, ...] = ()  # at least one of these
    all: tuple[tuple[str, ...], ...] = ()  # one term of every group
    group_names: tuple[str, ...] = ()  # names of the `all` groups, for explanations
    none: tuple[str, ...] = ()  # none of these in the scope
    unless_between: tuple[str, ...] = ()  # none of these between the matched terms
    ignore: tuple[str, ...] = ()  # phrases whose words never count as matches ("on strike")
    within: int | None = None  # matched terms at most this many words apart
    scope: Literal["sentence", "article"] = "sentence"
    negation: bool = True  # a negated or denied match does not count
    fields: tuple[Field, ...] = FIELDS
    feeds: tuple[str, ...] = ()  # only these feed names (empty: all)
    feed_tags: tuple[str, ...] = ()  # only feeds with one of these tags (empty: all)
    figure: FigureCondition | None = None
    places: PlaceCondition | None = None
    new_region: NewRegion | None = None
    cooldown: float = 0.0  # seconds; 0 means every match alerts
    cooldown_by: Literal["rule", "country", "region", "place", "story"] = "region"
    enabled: bool = True

    @property
    def has_text(self) -> bool:
        return bool(self.any or self.all)


@dataclass
class _Reader:
    """Reads one rule mapping, recording problems instead of raising."""

    source: str
    data: Mapping
    problems: list[Problem] = field(default_factory=list)

    def line(self, key: str | None = None) -> int:
        return self.data.line_of(key) if key else self.data.line

    def error(self, key: str | None, message: str, data: Mapping | None = None) -> None:
        """A problem at key's line, in the rule or in one of its sub-mappings (data)."""
        line = data.line_of(key) if data is not None and key else self.line(key)
        self.problems.append(Problem(self.source, line, message))

    def text(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self.data.get(key)
        if value is None:
            if required:
                self.error(None, f"rule is missing '{key}'")
            return default
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.error(key, f"'{key}' must be text")
            return default
        return str(value).strip()

    def terms(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.error(key, f"'{key}' must be a list of words or phrases")
            return ()
        return self._term_list(key, value)

    def _term_list(self, key: str, value: list[Any]) -> tuple[str, ...]:
        out = []
        for item in value:
            if not isinstance(item, str | int) or isinstance(item, bool) or not str(item).strip():
                self.error(key, f"'{key}' holds {item!r}: every term must be a word or phrase")
                continue
            term = str(item).strip()
            problem = term_problem(term)
            if problem:
                self.error(key, f"'{key}': term {term!r} {problem}")
                continue
            out.append(term)
        return tuple(out)

    def groups(self, key: str) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
        value = self.data.get(key)
        if value is None:
            return (), ()
        if isinstance(value, dict):
            names, groups = [], []
            for name, terms in value.items():
                if isinstance(terms, str):
                    terms = [terms]
                if not isinstance(terms, list) or not terms:
                    self.error(key, f"'{key}.{name}' must be a non-empty list of terms")
                    continue
                names.append(str(name))
                groups.append(self._term_list(f"{key}", terms))
            return tuple(groups), tuple(names)
        if isinstance(value, list):
            groups = []
            for item in value:
                terms = item if isinstance(item, list) else [item]
                groups.append(self._term_list(key, terms))
            return tuple(groups), tuple(f"group {i + 1}" for i in range(len(groups)))
        self.error(key, f"'{key}' must be a mapping of named term lists, or a list")
        return (), ()

    def duration(self, key: str, default: float, data: Mapping | None = None) -> float:
        data = self.data if data is None else data
        value = data.get(key)
        if value is None:
            return default
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.error(key, f"'{key}': {exc}", data)
            return default

    def choice(self, key: str, options: Iterable[str], default: str) -> str:
        value = self.data.get(key, default)
        options = tuple(options)
        if str(value).lower() not in options:
            self.error(key, f"'{key}' is {value!r}; expected one of: {', '.join(options)}")
            return default
        return str(value).lower()


_TERM_OK = re.compile(r"^[^*]+\*?$")
_WORDLIKE = re.compile(r"\w")


def term_problem(term: str) -> str | None:
    """Why a term cannot be matched, or None. Terms are words or phrases; a '*' may end each
    word to match any ending (a stem), as in 'shell*' or 'health work*'."""
    if not _WORDLIKE.search(term):
        return "has no letters or digits: it could never match a word"
    for word in term.split():
        if not _TERM_OK.match(word):
            return "has a '*' that is not at the end of a word"
        if word.endswith("*") and len(word.rstrip("*")) < 3:
            return "has a stem shorter than 3 letters (it would match too much)"
    return None


_KNOWN_KEYS = {
    "id", "title", "severity", "notify", "any", "all", "none", "unless_between", "within",
    "ignore", "scope", "negation", "fields", "feeds", "feed_tags", "figure", "places", "new_region",
    "cooldown", "cooldown_by", "enabled", "description",
}  # fmt: skip


def read_rule(data: Any, source: str, line: int) -> tuple[Rule | None, list[Problem]]:
    """Validate one rule mapping. Returns the rule (None if unusable) and every problem found."""
    if not isinstance(data, Mapping):
        return None, [Problem(source, line, "each rule must be a mapping with at least 'id'")]
    r = _Reader(source, data)
    for key in data:
        if key not in _KNOWN_KEYS:
            hint = _closest(key, _KNOWN_KEYS)
            r.error(key, f"unknown key '{key}'" + (f" (did you mean '{hint}'?)" if hint else ""))
    rule_id = r.text("id", required=True)
    if rule_id and not _ID.match(rule_id):
        r.error("id", f"id {rule_id!r} must be lower-case letters, digits, '-', '_' or '.'")
    any_terms = r.terms("any")
    all_groups, names = r.groups("all")
    figure = _figure(r)
    places = _places(r)
    new_region = _new_region(r)
    if not (any_terms or all_groups or figure or places or new_region):
        r.error(None, f"rule '{rule_id}' has no condition (any, all, figure, places or new_region)")
    notify = r.terms("notify")
    if not notify:
        r.error(None, f"rule '{rule_id}' has no 'notify' tags: its alerts would go nowhere")
    within = data.get("within")
    if within is not None and (
        not isinstance(within, int) or isinstance(within, bool) or within < 1
    ):
        r.error("within", "'within' must be a whole number of words, at least 1")
        within = None
    fields_value = r.terms("fields") or FIELDS
    bad = [f for f in fields_value if f not in FIELDS]
    if bad:
        r.error("fields", f"unknown field(s) {', '.join(bad)}; expected: {', '.join(FIELDS)}")
    negation = data.get("negation", True)
    if not isinstance(negation, bool):
        r.error("negation", "'negation' must be true or false")
        negation = True
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        r.error("enabled", "'enabled' must be true or false")
        enabled = True
    rule = Rule(
        id=rule_id,
        title=r.text("title") or rule_id,
        severity=r.choice("severity", SEVERITIES, "medium"),
        notify=notify,
        source=source,
        line=data.line,
        any=any_terms,
        all=all_groups,
        group_names=names,
        none=r.terms("none"),
        unless_between=r.terms("unless_between"),
        ignore=r.terms("ignore"),
        within=within,
        scope="article"
        if r.choice("scope", ("sentence", "article"), "sentence") == "article"
        else "sentence",
        negation=negation,
        fields=tuple(f for f in fields_value if f in FIELDS),
        feeds=r.terms("feeds"),
        feed_tags=r.terms("feed_tags"),
        figure=figure,
        places=places,
        new_region=new_region,
        cooldown=r.duration("cooldown", 0.0),
        cooldown_by=r.choice("cooldown_by", COOLDOWN_BY, "region"),  # type: ignore[arg-type]
        enabled=enabled,
    )
    return (rule if rule_id else None), r.problems


def _figure(r: _Reader) -> FigureCondition | None:
    value = r.data.get("figure")
    if value is None:
        return None
    if not isinstance(value, Mapping):
        r.error("figure", "'figure' must be a mapping like {kind: displaced, at_least: 10000}")
        return None
    kind = str(value.get("kind", "displaced"))
    if kind not in FIGURE_KINDS:
        r.error("kind", f"figure kind {kind!r}; expected one of: {', '.join(FIGURE_KINDS)}", value)
        return None
    at_least = value.get("at_least", 1)
    if isinstance(at_least, str):
        at_least = at_least.replace(",", "").replace("_", "")
    try:
        if isinstance(at_least, bool) or (
            isinstance(at_least, float) and not at_least.is_integer()
        ):
            raise ValueError
        threshold = int(at_least)
        if threshold < 0:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        r.error(
            "at_least", f"figure at_least {at_least!r} is not a whole number of 0 or more", value
        )
        return None
    for key in value:
        if key not in ("kind", "at_least"):
            r.error(key, f"unknown figure key '{key}'", value)
    return FigureCondition(kind, threshold)


def _places(r: _Reader) -> PlaceCondition | None:
    value = r.data.get("places")
    if value is None:
        return None
    if isinstance(value, list):
        return PlaceCondition(include=tuple(str(v) for v in value))
    if not isinstance(value, Mapping):
        r.error("places", "'places' must be a list of places or {include: [...], exclude: [...]}")
        return None
    for key in value:
        if key not in ("include", "exclude"):
            r.error(key, f"unknown places key '{key}' (use include / exclude)", value)

    def names(key: str) -> tuple[str, ...]:
        items = value.get(key) or []
        if isinstance(items, str):
            items = [items]
        return tuple(str(v) for v in items)

    return PlaceCondition(include=names("include"), exclude=names("exclude"))


def _new_region(r: _Reader) -> NewRegion | None:
    value = r.data.get("new_region")
    if value is None or value is False:
        return None
    if value is True:
        return NewRegion()
    if not isinstance(value, Mapping):
        r.error("new_region", "'new_region' must be true or {level, window, baseline}")
        return None
    level = str(value.get("level", "region"))
    if level not in LEVELS:
        r.error("level", f"new_region level {level!r}; expected one of: {', '.join(LEVELS)}", value)
        level = "region"
    for key in value:
        if key not in ("level", "window", "baseline"):
            r.error(key, f"unknown new_region key '{key}'", value)
    return NewRegion(
        level=level,  # type: ignore[arg-type]
        window=r.duration("window", 30 * 86400, value),
        baseline=r.duration("baseline", 86400, value),
    )


def _closest(word: str, options: Iterable[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.7)
    return found[0] if found else None


def read_rules(data: Any, source: str) -> tuple[list[Rule], list[Problem]]:
    """Every rule of one rules file (`rules:` a list). Problems are collected, not raised."""
    if data is None:
        return [], []
    if not isinstance(data, Mapping) or "rules" not in data:
        line = getattr(data, "line", 1)
        return [], [Problem(source, line, "a rules file must be a mapping with a 'rules:' list")]
    items = data["rules"]
    if items is None:
        return [], []
    if not isinstance(items, Sequence):
        return [], [Problem(source, data.line_of("rules"), "'rules' must be a list")]
    rules, problems = [], []
    for item, line in zip(items, items.item_lines, strict=True):
        rule, found = read_rule(item, source, line)
        problems.extend(found)
        if rule is not None and not any(p.level == "error" for p in found):
            rules.append(rule)
    return rules, problems

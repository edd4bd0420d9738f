"""Decide: turn an article's matches into alerts. Pure: it is given the state it needs.

It applies the age limit (old entries are recorded, never alerted), cooldowns per (rule, key),
and new-region memory with its baseline, and says why anything was held back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.records import Article, Match
from monitor.rules import Rule
from monitor.text import fold


@dataclass(frozen=True, slots=True)
class RuleState:
    """What the store knows that matters for one match."""

    last_fired: datetime | None = None  # last alert of this (rule, cooldown key)
    first_active: datetime | None = None  # when the rule first ran (new-region baseline)
    regions_seen: Mapping[str, datetime] = field(default_factory=dict)  # place id -> last seen


@dataclass(frozen=True, slots=True)
class PlannedAlert:
    match: Match  # for new-region rules, its places are only the new ones
    cooldown_key: str


@dataclass(frozen=True, slots=True)
class Decision:
    alerts: tuple[PlannedAlert, ...]
    regions: tuple[tuple[str, str], ...]  # (rule id, place id) to remember as seen now
    held: tuple[str, ...]  # one line per match not alerted, saying why
    recorded_only: bool = False  # too old, or a new feed's undated backlog: store, never alert


def cooldown_key(rule: Rule, match: Match) -> str:
    """The key a rule's cooldown is counted under: the whole rule; the main place's country,
    region or id (the first place named), so one story does not alert twice but another
    country's does; or the story (the figure, or the matched words, and the country)."""
    if rule.cooldown_by == "story":
        # the same figure (or the same words) about the same country: other outlets' copies
        # of one story. A figure that changes is a new story: it alerts again.
        country = match.places[0].country_code if match.places else ""
        if match.figure is not None:
            return f"story:{match.figure.kind}:{match.figure.value}:{country}"
        words = "+".join(sorted({fold(t) for t in match.terms}))
        return f"story:{words}:{country}"
    if rule.cooldown_by == "rule" or not match.places:
        return ""
    main = match.places[0]
    if rule.cooldown_by == "country":
        return f"country:{main.country_code}"
    if rule.cooldown_by == "region":
        return main.admin1_id or (
            main.id if main.kind != "city" else f"country:{main.country_code}"
        )
    return main.id


def is_too_old(article: Article, *, now: datetime, max_age: float, backlog: bool) -> bool:
    """An entry to record but never alert: published before the age limit, or undated on a
    feed's first successful poll (its backlog, which would otherwise flood on adding a feed)."""
    if article.published is None:
        return backlog
    return article.published < now - timedelta(seconds=max_age)


def decide(
    article: Article,
    matches: Sequence[Match],
    rules: Mapping[str, Rule],
    states: Mapping[str, RuleState],
    *,
    now: datetime,
    max_age: float,
    backlog: bool = False,
) -> Decision:
    """Which matches become alerts. `states` is keyed by rule id; `backlog` says the article
    comes from a feed's first successful poll.

    The cooldown key is that of the match as matched (before new-region filtering), the same
    key the caller looked `last_fired` up under. A new region held back by a cooldown is not
    remembered, so it still alerts once the cooldown is over."""
    alerts: list[PlannedAlert] = []
    regions: list[tuple[str, str]] = []
    held: list[str] = []
    too_old = is_too_old(article, now=now, max_age=max_age, backlog=backlog)
    for match in matches:
        rule = rules[match.rule_id]
        state = states.get(rule.id, RuleState())
        key = cooldown_key(rule, match)
        last = state.last_fired
        cooling = (
            bool(rule.cooldown)
            and last is not None
            and now - last < timedelta(seconds=rule.cooldown)
        )
        candidates = [(rule.id, p.id) for p in match.places]
        if rule.new_region:
            fresh, learning = _new_places(rule, match, state, article, now)
            if learning or too_old:
                regions.extend(candidates)
                held.append(f"{rule.id}: learning places (baseline period or old entry)")
                continue
            if not fresh.places:
                regions.extend(candidates)  # refresh when each was last seen
                held.append(f"{rule.id}: no place new within the window")
                continue
            if cooling:
                new_ids = {p.id for p in fresh.places}
                regions.extend(c for c in candidates if c[1] not in new_ids)
                held.append(f"{rule.id}: in cooldown for '{key or rule.id}'")
                continue
            regions.extend(candidates)
            alerts.append(PlannedAlert(fresh, key))
            continue
        if too_old:
            held.append(f"{rule.id}: entry too old (or backlog of a new feed), recorded only")
            continue
        if cooling:
            held.append(f"{rule.id}: in cooldown for '{key or rule.id}'")
            continue
        alerts.append(PlannedAlert(match, key))
    return Decision(tuple(alerts), tuple(dict.fromkeys(regions)), tuple(held), too_old)


def _new_places(
    rule: Rule, match: Match, state: RuleState, article: Article, now: datetime
) -> tuple[Match, bool]:
    """Keep only the places not seen within the window; say whether the rule is still learning.

    Learning: within `baseline` of the rule's first run, or an entry published before it (the
    backlog a first poll finds)."""
    assert rule.new_region is not None
    window = timedelta(seconds=rule.new_region.window)
    fresh = tuple(
        p
        for p in match.places
        if (seen := state.regions_seen.get(p.id)) is None or now - seen > window
    )
    first = state.first_active or now
    learning = now < first + timedelta(seconds=rule.new_region.baseline) or (
        article.published is not None and article.published < first
    )
    if fresh == match.places:
        return match, learning
    # matched sentence and terms stay; the explanation names only the new places
    names = ", ".join(p.name for p in fresh)
    explain = match.explain.split("; new-region candidates")[0]
    return (
        Match(
            match.rule_id,
            match.rule_title,
            match.severity,
            match.sentence,
            match.terms,
            match.figure,
            fresh,
            f"{explain}; new region(s) {names}" if fresh else explain,
        ),
        learning,
    )

"""decide(): the age limit, cooldowns and new-region memory, as plain data in and out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from monitor.decide import RuleState, cooldown_key, decide
from monitor.records import Article, Figure, Match, Place
from monitor.rules import NewRegion, Rule

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DAY = 86400.0

IDLIB = Place("region:SY-ID", "Idlib Governorate", "SY", "region", None, None, "Idlib")
HAMA = Place("region:SY-HM", "Hama Governorate", "SY", "region", None, None, "Hama")
GOMA = Place("city:1", "Goma", "CD", "city", "North Kivu", "region:CD-NK", "Goma")


def _rule(**kw: object) -> Rule:
    base = Rule(
        id="r", title="R", severity="high", notify=("alerts",), source="r.yaml", line=1, any=("x",)
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def _article(published: datetime | None = NOW) -> Article:
    return Article("feed", "g", "https://x.org/a", "T", "S", "", published)


def _match(
    places: tuple[Place, ...] = (), figure: Figure | None = None, terms: tuple[str, ...] = ("x",)
) -> Match:
    return Match("r", "R", "high", "sentence", terms, figure, places, "r: why")


def _figure(value: int) -> Figure:
    return Figure("displaced", value, "people", True, None, f"{value} displaced")


def test_recent_match_alerts() -> None:
    d = decide(_article(), [_match((IDLIB,))], {"r": _rule()}, {}, now=NOW, max_age=2 * DAY)
    assert [a.match.rule_id for a in d.alerts] == ["r"]
    assert d.held == ()


def test_old_entry_is_held() -> None:
    old = _article(NOW - timedelta(days=3))
    d = decide(old, [_match()], {"r": _rule()}, {}, now=NOW, max_age=2 * DAY)
    assert d.alerts == ()
    assert "too old" in d.held[0]
    assert d.recorded_only


def test_undated_entry_is_not_too_old() -> None:
    d = decide(_article(None), [_match()], {"r": _rule()}, {}, now=NOW, max_age=2 * DAY)
    assert len(d.alerts) == 1


def test_undated_entry_of_a_new_feeds_backlog_is_recorded_only() -> None:
    d = decide(
        _article(None), [_match()], {"r": _rule()}, {}, now=NOW, max_age=2 * DAY, backlog=True
    )
    assert (d.alerts, d.recorded_only) == ((), True)
    dated = decide(
        _article(), [_match()], {"r": _rule()}, {}, now=NOW, max_age=2 * DAY, backlog=True
    )
    assert len(dated.alerts) == 1  # a recent dated entry still alerts on the first poll


def test_new_region_held_by_cooldown_is_not_remembered() -> None:
    rule = _rule(
        new_region=NewRegion("region", window=30 * DAY, baseline=0),
        cooldown=3600.0,
        cooldown_by="rule",
    )
    state = {
        "r": RuleState(
            first_active=NOW - timedelta(days=3),
            last_fired=NOW - timedelta(minutes=5),
            regions_seen={"region:SY-ID": NOW - timedelta(days=1)},
        )
    }
    d = decide(_article(None), [_match((IDLIB, HAMA))], {"r": rule}, state, now=NOW, max_age=DAY)
    assert d.alerts == ()
    assert "cooldown" in d.held[0]
    assert d.regions == (("r", "region:SY-ID"),)  # Hama stays new, so it alerts after the cooldown


def test_cooldown_holds_then_releases() -> None:
    rule = _rule(cooldown=3600.0)
    fired = {"r": RuleState(last_fired=NOW - timedelta(minutes=10))}
    held = decide(_article(), [_match((IDLIB,))], {"r": rule}, fired, now=NOW, max_age=DAY)
    assert held.alerts == ()
    assert "cooldown" in held.held[0]
    later = {"r": RuleState(last_fired=NOW - timedelta(hours=2))}
    assert (
        len(decide(_article(), [_match((IDLIB,))], {"r": rule}, later, now=NOW, max_age=DAY).alerts)
        == 1
    )


def test_cooldown_keys() -> None:
    assert cooldown_key(_rule(cooldown_by="rule"), _match((IDLIB,))) == ""
    assert cooldown_key(_rule(cooldown_by="country"), _match((GOMA,))) == "country:CD"
    assert cooldown_key(_rule(cooldown_by="region"), _match((GOMA,))) == "region:CD-NK"
    assert cooldown_key(_rule(cooldown_by="region"), _match((IDLIB,))) == "region:SY-ID"
    assert cooldown_key(_rule(cooldown_by="place"), _match((GOMA,))) == "city:1"


def test_story_key_changes_when_the_figure_does() -> None:
    rule = _rule(cooldown_by="story")
    first = cooldown_key(rule, _match((IDLIB,), _figure(50000)))
    assert first == cooldown_key(rule, _match((HAMA,), _figure(50000)))  # same country, same figure
    assert first != cooldown_key(rule, _match((IDLIB,), _figure(70000)))  # it rose: a new story
    assert first != cooldown_key(rule, _match((GOMA,), _figure(50000)))  # another country
    by_words = cooldown_key(rule, _match((IDLIB,), terms=("Hospital", "struck")))
    assert by_words == cooldown_key(rule, _match((HAMA,), terms=("struck", "hospital")))


def test_new_region_learns_during_baseline_then_alerts_only_new_places() -> None:
    rule = _rule(new_region=NewRegion("region", window=30 * DAY, baseline=DAY))
    rules = {"r": rule}
    match = _match((IDLIB, HAMA))
    learning = {"r": RuleState(first_active=NOW - timedelta(hours=1))}
    d = decide(_article(None), [match], rules, learning, now=NOW, max_age=DAY)
    assert d.alerts == ()
    assert set(d.regions) == {("r", "region:SY-ID"), ("r", "region:SY-HM")}

    seen = {
        "r": RuleState(
            first_active=NOW - timedelta(days=3),
            regions_seen={"region:SY-ID": NOW - timedelta(days=1)},
        )
    }
    d = decide(_article(None), [match], rules, seen, now=NOW, max_age=DAY)
    [alert] = d.alerts
    assert alert.match.places == (HAMA,)
    assert "Hama" in alert.match.explain
    assert set(d.regions) == {("r", "region:SY-ID"), ("r", "region:SY-HM")}  # both refreshed


def test_new_region_place_seen_long_ago_is_new_again() -> None:
    rule = _rule(new_region=NewRegion("region", window=30 * DAY, baseline=0))
    stale = {
        "r": RuleState(
            first_active=NOW - timedelta(days=90),
            regions_seen={"region:SY-ID": NOW - timedelta(days=45)},
        )
    }
    d = decide(_article(None), [_match((IDLIB,))], {"r": rule}, stale, now=NOW, max_age=DAY)
    assert len(d.alerts) == 1


def test_backlog_published_before_the_rule_started_is_learned() -> None:
    rule = _rule(new_region=NewRegion("region", window=30 * DAY, baseline=0))
    state = {"r": RuleState(first_active=NOW)}
    backlog = _article(NOW - timedelta(hours=5))
    d = decide(backlog, [_match((IDLIB,))], {"r": rule}, state, now=NOW, max_age=DAY)
    assert d.alerts == ()
    assert d.regions == (("r", "region:SY-ID"),)

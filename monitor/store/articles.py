"""Articles and their dedup keys, committed with their alerts in one transaction; rule memory."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.records import Article
from monitor.store.base import StoreBase
from monitor.store.records import AlertDraft
from monitor.store.tables import (
    AlertRow,
    ArticleKeyRow,
    ArticleRow,
    DeliveryRow,
    RegionSeenRow,
    RuleFireRow,
    RuleStateRow,
    table_of,
)


def _payload(article: Article, draft: AlertDraft) -> dict[str, Any]:
    return {
        "v": 1,
        "rule_title": draft.rule_title,
        "article_title": article.title,
        "source": article.feed,
        "link": article.link,
        "sentence": draft.sentence,
        "terms": list(draft.terms),
        "published": article.published.astimezone(UTC).isoformat() if article.published else None,
        "explain": draft.explain,
        "figure": draft.figure,
        "places": list(draft.places),
    }


class ArticleStore(StoreBase):
    """Articles, their keys, alerts and deliveries; when rules fired and which places they saw."""

    def known(self, keys: Sequence[str]) -> bool:
        """True when any of the keys is already stored. A cheap pre-check, not the guarantee."""
        if not keys:
            return False
        with self._read() as s:
            stmt = select(ArticleKeyRow.key).where(col(ArticleKeyRow.key).in_(list(keys))).limit(1)
            return s.exec(stmt).first() is not None

    def commit_article(
        self,
        article: Article,
        keys: Sequence[str],
        *,
        fetched_at: datetime,
        alerted: bool,
        alerts: Sequence[AlertDraft],
        regions: Sequence[tuple[str, str]],
        now: datetime,
        regions_seen_at: datetime | None = None,
    ) -> int | None:
        """Store the article, its keys, alerts, their pending deliveries, cooldowns and regions.

        The regions (rule id, place id) are recorded as seen at regions_seen_at (default now;
        a later time is taken as now): an old article must not make a region look seen today.
        A region's last_seen never moves back, nor its first_seen forward.

        One transaction: all of it or nothing. Returns the article id, or None when any key was
        already stored (a duplicate: nothing is written). Any other failure rolls back and raises.
        Two targets with the same id in one alert are a caller bug and raise IntegrityError.
        """
        seen_at = now
        if regions_seen_at is not None:
            if regions_seen_at.utcoffset() is None:
                raise ValueError(f"naive datetime given to the store: {regions_seen_at!r}")
            seen_at = min(regions_seen_at, now)
        # Sorted: concurrent commits then lock the keys (and the rule and region rows below) in
        # one order, so on PostgreSQL two of them wait for each other instead of deadlocking.
        unique_keys = sorted(set(keys))
        if not unique_keys:
            raise ValueError("an article needs at least one dedup key")
        with self._write() as s:
            row = ArticleRow(
                feed=article.feed,
                guid=article.guid,
                link=article.link,
                title=article.title,
                published=article.published,
                fetched_at=fetched_at,
                alerted=alerted,
            )
            s.add(row)
            s.flush()
            assert row.id is not None
            article_id = row.id
            try:
                # one INSERT of all the keys: a duplicate fails it whole (and psycopg's
                # executemany would log an aborted pipeline for it)
                s.exec(
                    table_of(ArticleKeyRow)
                    .insert()
                    .values([{"key": k, "article_id": article_id} for k in unique_keys])
                )
            except IntegrityError:
                s.rollback()
                return None
            # Cooldowns are claimed here, inside the write transaction: of two workers storing
            # copies of one story at once, only the first keeps its alert.
            claimed = {
                (d.rule_id, d.cooldown_key): self._claim_cooldown(s, d, now)
                for d in sorted(
                    (d for d in alerts if d.cooldown > 0), key=lambda d: (d.rule_id, d.cooldown_key)
                )
            }
            # Likewise the places a new-region alert calls new: still unseen within the window
            # when this transaction writes, or the alert goes (another worker reported them).
            fresh = {
                (d.rule_id, place): self._claim_region(s, d.rule_id, place, seen_at, now, d.window)
                for d in sorted(alerts, key=lambda d: d.rule_id)
                for place in sorted(d.new_places)
            }
            fired: set[tuple[str, str]] = set()
            for draft in alerts:
                if not claimed.get((draft.rule_id, draft.cooldown_key), True):
                    continue
                if draft.new_places and not any(
                    fresh[(draft.rule_id, p)] for p in draft.new_places
                ):
                    continue
                alert = AlertRow(
                    article_id=article_id,
                    rule_id=draft.rule_id,
                    severity=draft.severity,
                    created_at=now,
                    cooldown_key=draft.cooldown_key,
                    payload=_payload(article, draft),
                )
                s.add(alert)
                s.flush()
                assert alert.id is not None
                s.add_all(
                    [
                        DeliveryRow(
                            alert_id=alert.id,
                            target_id=target_id,
                            target_label=label,
                            next_attempt_at=now,
                        )
                        for target_id, label in draft.targets
                    ]
                )
                fired.add((draft.rule_id, draft.cooldown_key))
            s.flush()
            for rule_id, cooldown_key in sorted(fired - claimed.keys()):
                self._upsert(
                    s,
                    RuleFireRow,
                    {"rule_id": rule_id, "cooldown_key": cooldown_key, "last_fired": now},
                    ("rule_id", "cooldown_key"),
                    {"last_fired": now},
                )
            for rule_id, place_id in sorted(set(regions)):
                self._upsert(
                    s,
                    RegionSeenRow,
                    {
                        "rule_id": rule_id,
                        "place_id": place_id,
                        "first_seen": seen_at,
                        "last_seen": seen_at,
                    },
                    ("rule_id", "place_id"),
                    self._seen_bounds(seen_at),
                )
            s.flush()
        return article_id

    def _claim_cooldown(self, s: Session, draft: AlertDraft, now: datetime) -> bool:
        """Record that the draft's (rule, key) fired now, unless it fired within the cooldown:
        one conditional upsert whose RETURNING says whether this alert won (psycopg's
        pipeline mode reports no row count)."""
        table = table_of(RuleFireRow)
        cutoff = bindparam(
            None, now - timedelta(seconds=draft.cooldown), type_=table.c.last_fired.type
        )
        values = {"rule_id": draft.rule_id, "cooldown_key": draft.cooldown_key, "last_fired": now}
        if self.dialect not in ("sqlite", "postgresql"):  # no conditional upsert: as before
            self._upsert(s, RuleFireRow, values, ("rule_id", "cooldown_key"), {"last_fired": now})
            return True
        insert = sqlite.insert if self.dialect == "sqlite" else postgresql.insert
        stmt = (
            insert(table)
            .values(**values)
            .on_conflict_do_update(
                index_elements=["rule_id", "cooldown_key"],
                set_={"last_fired": now},
                where=table.c.last_fired <= cutoff,
            )
            .returning(table.c.rule_id)  # a row back: inserted or updated, so this alert won
        )
        return s.exec(stmt).first() is not None

    def _claim_region(
        self,
        s: Session,
        rule_id: str,
        place_id: str,
        seen_at: datetime,
        now: datetime,
        window: float,
    ) -> bool:
        """Mark a place seen for a rule, unless it was seen within the window: True when this
        call made it seen (a conditional upsert whose RETURNING says so)."""
        table = table_of(RegionSeenRow)
        values = {
            "rule_id": rule_id,
            "place_id": place_id,
            "first_seen": seen_at,
            "last_seen": seen_at,
        }
        if self.dialect not in ("sqlite", "postgresql"):
            self._upsert(
                s, RegionSeenRow, values, ("rule_id", "place_id"), self._seen_bounds(seen_at)
            )
            return True
        cutoff = bindparam(None, now - timedelta(seconds=window), type_=table.c.last_seen.type)
        insert = sqlite.insert if self.dialect == "sqlite" else postgresql.insert
        stmt = (
            insert(table)
            .values(**values)
            .on_conflict_do_update(
                index_elements=["rule_id", "place_id"],
                set_=self._seen_bounds(seen_at),
                where=table.c.last_seen <= cutoff,
            )
            .returning(table.c.place_id)
        )
        return s.exec(stmt).first() is not None

    def _seen_bounds(self, seen_at: datetime) -> dict[str, Any]:
        """The region row's update on conflict: last_seen the later and first_seen the earlier
        of the stored time and seen_at. Both backends store the times in UTC (SQLite as text of
        fixed width), so their comparison is the times' order."""
        table = table_of(RegionSeenRow)
        first, last = table.c.first_seen, table.c.last_seen
        new = bindparam(None, seen_at, type_=last.type)
        if self.dialect == "sqlite":  # two-argument min() and max() are scalar in SQLite
            return {"first_seen": func.min(first, new), "last_seen": func.max(last, new)}
        if self.dialect == "postgresql":
            return {"first_seen": func.least(first, new), "last_seen": func.greatest(last, new)}
        return {
            "first_seen": case((first > new, new), else_=first),
            "last_seen": case((last < new, new), else_=last),
        }

    # --- rule memory ---------------------------------------------------------------------------

    def last_fired(self, rule_id: str, cooldown_key: str) -> datetime | None:
        """When an alert of this rule with this cooldown key was last stored."""
        with self._read() as s:
            row = s.get(RuleFireRow, (rule_id, cooldown_key))
            return row.last_fired if row else None

    def regions_last_seen(self, rule_id: str, place_ids: Sequence[str]) -> dict[str, datetime]:
        """When this rule last saw each of the places; places it never saw are absent."""
        if not place_ids:
            return {}
        with self._read() as s:
            stmt = select(RegionSeenRow).where(
                col(RegionSeenRow.rule_id) == rule_id,
                col(RegionSeenRow.place_id).in_(list(place_ids)),
            )
            return {r.place_id: r.last_seen for r in s.exec(stmt)}

    def rule_first_active(self, rule_id: str, now: datetime) -> datetime:
        """When the rule was first seen; records now if it never was."""
        with self._write() as s:
            self._upsert(
                s, RuleStateRow, {"rule_id": rule_id, "first_active": now}, ("rule_id",), None
            )
            row = s.get(RuleStateRow, rule_id)
            assert row is not None
            return row.first_active

"""The SQLModel tables, and the column type that keeps datetimes UTC-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint, types
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class _UTC(types.TypeDecorator[datetime]):
    """An aware datetime stored in UTC, read back UTC-aware even where offsets are not kept."""

    impl = types.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime given to the store: {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class FeedStateRow(SQLModel, table=True):
    __tablename__ = "feed_state"
    name: str = Field(primary_key=True)
    url: str
    permanent_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_attempt: datetime | None = Field(default=None, sa_type=_UTC)
    last_success: datetime | None = Field(default=None, sa_type=_UTC)
    last_error: str | None = None
    last_error_at: datetime | None = Field(default=None, sa_type=_UTC)
    failures: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=_UTC)
    lease_until: datetime | None = Field(default=None, sa_type=_UTC)
    lease_owner: str | None = None
    entries_total: int = 0


class ArticleRow(SQLModel, table=True):
    __tablename__ = "article"
    id: int | None = Field(default=None, primary_key=True)
    feed: str = Field(index=True)
    guid: str | None = None
    link: str | None = None
    title: str
    published: datetime | None = Field(default=None, sa_type=_UTC)
    fetched_at: datetime = Field(sa_type=_UTC, index=True)
    alerted: bool = False


class ArticleKeyRow(SQLModel, table=True):
    __tablename__ = "article_key"
    key: str = Field(primary_key=True)  # THE dedup guarantee: a second insert of a key fails
    article_id: int = Field(foreign_key="article.id", index=True)


class AlertRow(SQLModel, table=True):
    __tablename__ = "alert"
    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    rule_id: str = Field(index=True)
    severity: str
    created_at: datetime = Field(sa_type=_UTC, index=True)
    cooldown_key: str
    payload: dict[str, Any] = Field(sa_type=JSON)  # what rendering needs, see articles._payload()


class DeliveryRow(SQLModel, table=True):
    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("alert_id", "target_id"),
        Index("ix_delivery_due", "state", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    target_id: str
    target_label: str  # masked: safe to print
    state: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=_UTC)
    last_error: str | None = None
    lease_until: datetime | None = Field(default=None, sa_type=_UTC)
    lease_owner: str | None = None
    sent_at: datetime | None = Field(default=None, sa_type=_UTC)


class RuleFireRow(SQLModel, table=True):
    __tablename__ = "rule_fire"
    rule_id: str = Field(primary_key=True)
    cooldown_key: str = Field(primary_key=True)
    last_fired: datetime = Field(sa_type=_UTC)


class RegionSeenRow(SQLModel, table=True):
    __tablename__ = "region_seen"
    rule_id: str = Field(primary_key=True)
    place_id: str = Field(primary_key=True)
    first_seen: datetime = Field(sa_type=_UTC)
    last_seen: datetime = Field(sa_type=_UTC)


class RuleStateRow(SQLModel, table=True):
    __tablename__ = "rule_state"
    rule_id: str = Field(primary_key=True)
    first_active: datetime = Field(sa_type=_UTC)


class SchemaVersionRow(SQLModel, table=True):
    __tablename__ = "schema_version"
    id: int = Field(default=1, primary_key=True)  # a single row
    version: int


def table_of(model: type[SQLModel]) -> Any:
    return model.__table__  # type: ignore[attr-defined]  # set by SQLModel on table=True classes

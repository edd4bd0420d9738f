"""Storage: articles and their dedup keys, alerts, the delivery outbox, feed state, rule memory.

The only module that imports SQLModel / SQLAlchemy. SQLite (WAL) by default; the models use no
SQLite-only SQL, so the same code runs on PostgreSQL with several workers. Every claim (of a feed,
of a delivery) is a single UPDATE ... WHERE <state/lease condition>; its rowcount says who won.

The store never reads a clock: every time is a UTC-aware datetime passed in by the caller, and
every time read back is UTC-aware (SQLite keeps no offset, so it is restored on read).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import JSON, Connection, Engine, Index, UniqueConstraint, event, func, types
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool
from sqlmodel import Field, Session, SQLModel, and_, col, create_engine, or_, select, update

from monitor.records import AlertMessage, Article, Match, Validators

DeliveryState = Literal["pending", "sending", "sent", "failed"]
DELIVERY_STATES: tuple[DeliveryState, ...] = ("pending", "sending", "sent", "failed")

SCHEMA_VERSION = 1
Migration = Callable[[Connection], None]
# version n -> the step that upgrades a database from n to n + 1. Empty while there is one version.
MIGRATIONS: Mapping[int, Migration] = {}

# execution option: this transaction will write (BEGIN IMMEDIATE on SQLite)
_WRITE = "monitor_write"


class StoreError(Exception):
    """The database cannot be used by this version of the code."""


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


# --- tables ------------------------------------------------------------------------------------


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
    payload: dict[str, Any] = Field(sa_type=JSON)  # what rendering needs, see _payload()


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


# --- records the store hands out ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """An alert to store with its article; the article's title, feed, link and date come from it."""

    rule_id: str
    severity: str
    cooldown_key: str  # rule_fire is keyed on (rule_id, cooldown_key)
    rule_title: str
    sentence: str | None
    terms: tuple[str, ...]
    targets: tuple[tuple[str, str], ...]  # (target_id, masked label): one delivery each
    explain: str = ""
    figure: str | None = None  # readable, e.g. 'displaced: nearly 50,000 people'
    places: tuple[str, ...] = ()  # readable place names

    @classmethod
    def from_match(
        cls,
        match: Match,
        *,
        cooldown_key: str,
        targets: Sequence[tuple[str, str]],
        figure: str | None = None,
    ) -> AlertDraft:
        """A draft carrying the match's fields; figure defaults to '<kind>: <phrase>'."""
        if figure is None and match.figure is not None:
            figure = f"{match.figure.kind}: {match.figure.phrase}"
        return cls(
            rule_id=match.rule_id,
            severity=match.severity,
            cooldown_key=cooldown_key,
            rule_title=match.rule_title,
            sentence=match.sentence,
            terms=match.terms,
            targets=tuple(targets),
            explain=match.explain,
            figure=figure,
            places=tuple(p.name for p in match.places),
        )


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the store remembers about one feed."""

    name: str
    url: str
    permanent_url: str | None  # where a permanent redirect said the feed now lives
    validators: Validators  # for the next conditional request
    last_attempt: datetime | None
    last_success: datetime | None  # a 304 counts as a success
    last_error: str | None  # kept after a later success, as history; see last_error_at
    last_error_at: datetime | None
    failures: int  # consecutive; 0 after a success
    next_attempt_at: datetime | None  # backoff: not before this; None when not backing off
    lease_until: datetime | None
    lease_owner: str | None
    entries_total: int  # entries seen in all successful fetches


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    """One claimed delivery: send message to target_id, then mark it."""

    delivery_id: int
    alert_id: int
    target_id: str
    target_label: str
    attempts: int  # attempts made before this one
    message: AlertMessage


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    target_id: str
    target_label: str
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class AlertStatus:
    alert_id: int
    created_at: datetime
    rule_id: str
    severity: str
    article_title: str
    source: str
    link: str | None
    deliveries: tuple[DeliveryStatus, ...]


@dataclass(frozen=True, slots=True)
class Counts:
    articles: int
    alerts: int
    deliveries: dict[str, int]  # every state of DELIVERY_STATES, 0 when none


# --- helpers -----------------------------------------------------------------------------------


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


def _message(alert: AlertRow) -> AlertMessage:
    p = alert.payload
    published = datetime.fromisoformat(p["published"]) if p.get("published") else None
    assert alert.id is not None
    return AlertMessage(
        alert_id=alert.id,
        severity=alert.severity,
        rule_id=alert.rule_id,
        rule_title=p["rule_title"],
        article_title=p["article_title"],
        source=p["source"],
        link=p.get("link"),
        sentence=p.get("sentence"),
        terms=tuple(p.get("terms", ())),
        published=published,
        explain=p.get("explain", ""),
        figure=p.get("figure"),
        places=tuple(p.get("places", ())),
    )


def _feed_state(row: FeedStateRow) -> FeedState:
    return FeedState(
        name=row.name,
        url=row.url,
        permanent_url=row.permanent_url,
        validators=Validators(etag=row.etag, last_modified=row.last_modified),
        last_attempt=row.last_attempt,
        last_success=row.last_success,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
        failures=row.failures,
        next_attempt_at=row.next_attempt_at,
        lease_until=row.lease_until,
        lease_owner=row.lease_owner,
        entries_total=row.entries_total,
    )


def _table(model: type[SQLModel]) -> Any:
    return model.__table__  # type: ignore[attr-defined]  # set by SQLModel on table=True classes


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    database = parsed.database or ""
    memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if memory:
        # one shared connection, else each connection would see its own empty database
        engine = create_engine(
            parsed, connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below): pysqlite's own transaction handling defers the
        # write lock, and a deferred reader that later writes fails at once instead of waiting.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # WAL + NORMAL survives a killed process; only a power cut can lose the last commits.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _due(now: datetime) -> Any:
    """Deliveries a worker may take: pending and due, or 'sending' under an expired lease."""
    return or_(
        and_(col(DeliveryRow.state) == "pending", col(DeliveryRow.next_attempt_at) <= now),
        and_(col(DeliveryRow.state) == "sending", col(DeliveryRow.lease_until) <= now),
    )


class Store:
    """The database. Each method is one short transaction; the object holds no other state.

    Safe to share between threads (each call takes its own connection) and between processes on
    the same database (claims and the UNIQUE key constraint arbitrate).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{_WRITE: True})

    @classmethod
    def open(
        cls,
        url: str,
        *,
        schema_version: int = SCHEMA_VERSION,
        migrations: Mapping[int, Migration] = MIGRATIONS,
    ) -> Store:
        """Connect, create the file's folder and missing tables, and migrate forward.

        Raises StoreError when the database was written by a newer schema, or a migration step is
        missing. Does not migrate backwards.
        """
        store = cls(_make_engine(url))
        try:
            store._prepare(schema_version, migrations)
        except BaseException:
            store.close()
            raise
        return store

    def _prepare(self, target: int, migrations: Mapping[int, Migration]) -> None:
        with self._writer.begin() as conn:
            SQLModel.metadata.create_all(conn)
            current = conn.execute(select(SchemaVersionRow.version)).scalar_one_or_none()
            if current is None:  # a new database: create_all made the current schema
                conn.execute(_table(SchemaVersionRow).insert().values(id=1, version=target))
                return
            if current > target:
                raise StoreError(
                    f"database schema version {current} is newer than this program's {target}"
                )
            for version in range(current, target):
                step = migrations.get(version)
                if step is None:
                    raise StoreError(f"no migration from schema version {version}")
                step(conn)
            if current != target:
                conn.execute(
                    update(SchemaVersionRow)
                    .where(col(SchemaVersionRow.id) == 1)
                    .values(version=target)
                )

    def close(self) -> None:
        """Release all connections. The Store must not be used afterwards."""
        self._engine.dispose()

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self._engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction, committed on normal exit and rolled back on an exception."""
        with Session(self._writer, expire_on_commit=False) as session:
            yield session
            session.commit()

    def _upsert(
        self,
        session: Session,
        model: type[SQLModel],
        values: dict[str, Any],
        keys: Sequence[str],
        set_: dict[str, Any] | None,
    ) -> None:
        """INSERT, or on a primary-key conflict UPDATE set_ (or do nothing when set_ is None)."""
        table = _table(model)
        if self.dialect in ("sqlite", "postgresql"):
            insert = sqlite.insert if self.dialect == "sqlite" else postgresql.insert
            stmt = insert(table).values(**values)
            if set_:
                session.exec(stmt.on_conflict_do_update(index_elements=list(keys), set_=set_))
            else:
                session.exec(stmt.on_conflict_do_nothing(index_elements=list(keys)))
            return
        # Another database: try the insert under a savepoint, update on conflict.
        try:
            with session.begin_nested():
                session.exec(table.insert().values(**values))
        except IntegrityError:
            if set_:
                where = [table.c[k] == values[k] for k in keys]
                session.exec(table.update().where(*where).values(**set_))

    # --- articles ------------------------------------------------------------------------------

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
    ) -> int | None:
        """Store the article, its keys, alerts, their pending deliveries, cooldowns and regions.

        One transaction: all of it or nothing. Returns the article id, or None when any key was
        already stored (a duplicate: nothing is written). Any other failure rolls back and raises.
        Two targets with the same id in one alert are a caller bug and raise IntegrityError.
        """
        unique_keys = list(dict.fromkeys(keys))
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
                s.add_all([ArticleKeyRow(key=k, article_id=article_id) for k in unique_keys])
                s.flush()
            except IntegrityError:
                s.rollback()
                return None
            for draft in alerts:
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
                self._upsert(
                    s,
                    RuleFireRow,
                    {
                        "rule_id": draft.rule_id,
                        "cooldown_key": draft.cooldown_key,
                        "last_fired": now,
                    },
                    ("rule_id", "cooldown_key"),
                    {"last_fired": now},
                )
            for rule_id, place_id in dict.fromkeys(regions):
                self._upsert(
                    s,
                    RegionSeenRow,
                    {"rule_id": rule_id, "place_id": place_id, "first_seen": now, "last_seen": now},
                    ("rule_id", "place_id"),
                    {"last_seen": now},
                )
            s.flush()
        return article_id

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

    # --- feeds ---------------------------------------------------------------------------------

    def get_feed_state(self, name: str) -> FeedState | None:
        with self._read() as s:
            row = s.get(FeedStateRow, name)
            return _feed_state(row) if row else None

    def feed_states(self) -> list[FeedState]:
        with self._read() as s:
            return [
                _feed_state(r) for r in s.exec(select(FeedStateRow).order_by(FeedStateRow.name))
            ]

    def claim_feed(
        self,
        name: str,
        url: str,
        owner: str,
        now: datetime,
        lease_seconds: float,
        *,
        respect_backoff: bool = True,
    ) -> bool:
        """Take the feed's lease for owner; False when another owner holds an unexpired lease.

        Creates the feed's row when missing and records url as its configured URL. With
        respect_backoff, also False while the feed's next_attempt_at is in the future. An owner may
        renew its own lease. Does not look at the polling interval: the scheduler owns that.
        """
        with self._write() as s:
            self._upsert(s, FeedStateRow, {"name": name, "url": url}, ("name",), {"url": url})
            cond = [
                col(FeedStateRow.name) == name,
                or_(
                    col(FeedStateRow.lease_until).is_(None),
                    col(FeedStateRow.lease_until) <= now,
                    col(FeedStateRow.lease_owner) == owner,
                ),
            ]
            if respect_backoff:
                cond.append(
                    or_(
                        col(FeedStateRow.next_attempt_at).is_(None),
                        col(FeedStateRow.next_attempt_at) <= now,
                    )
                )
            stmt = (
                update(FeedStateRow)
                .where(*cond)
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
                .execution_options(synchronize_session=False)
            )
            return s.exec(stmt).rowcount == 1

    def _finish_fetch(self, name: str, owner: str | None, values: dict[str, Any]) -> bool:
        cond = [col(FeedStateRow.name) == name]
        if owner is not None:
            cond.append(col(FeedStateRow.lease_owner) == owner)
        values = {**values, "lease_owner": None, "lease_until": None}
        with self._write() as s:
            stmt = (
                update(FeedStateRow)
                .where(*cond)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            return s.exec(stmt).rowcount == 1

    def record_fetch_success(
        self,
        name: str,
        now: datetime,
        validators: Validators,
        permanent_url: str | None,
        entries: int,
        *,
        owner: str | None = None,
    ) -> bool:
        """A fetch that returned a feed: store its validators (replacing the old ones), a new
        permanent URL when given, count its entries, clear failures and backoff, release the lease.

        With owner, only the lease owner may record. Returns False when no row was updated.
        """
        values: dict[str, Any] = {
            "last_attempt": now,
            "last_success": now,
            "etag": validators.etag,
            "last_modified": validators.last_modified,
            "failures": 0,
            "next_attempt_at": None,
            "entries_total": col(FeedStateRow.entries_total) + entries,
        }
        if permanent_url is not None:
            values["permanent_url"] = permanent_url
        return self._finish_fetch(name, owner, values)

    def record_fetch_not_modified(
        self, name: str, now: datetime, *, owner: str | None = None
    ) -> bool:
        """A 304: a success that changes nothing but the times; clears failures and backoff."""
        values: dict[str, Any] = {
            "last_attempt": now,
            "last_success": now,
            "failures": 0,
            "next_attempt_at": None,
        }
        return self._finish_fetch(name, owner, values)

    def record_fetch_error(
        self,
        name: str,
        now: datetime,
        error: str,
        next_attempt_at: datetime | None,
        *,
        owner: str | None = None,
    ) -> bool:
        """A failed fetch: one more consecutive failure, the error, and when to try again.

        The caller computes the backoff; the store only keeps it.
        """
        values: dict[str, Any] = {
            "last_attempt": now,
            "last_error": error,
            "last_error_at": now,
            "failures": col(FeedStateRow.failures) + 1,
            "next_attempt_at": next_attempt_at,
        }
        return self._finish_fetch(name, owner, values)

    # --- outbox --------------------------------------------------------------------------------

    def claim_deliveries(
        self, owner: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[DeliveryJob]:
        """Move up to limit due deliveries to 'sending' under owner's lease and return them.

        Due: pending with next_attempt_at <= now, or 'sending' with an expired lease (its worker
        died mid-send: the message may have gone out once already, so delivery is at least once).
        Each row is taken by its own conditional UPDATE; a row another worker took first is
        skipped, so two workers never hold the same delivery.
        """
        until = now + timedelta(seconds=lease_seconds)
        with self._write() as s:
            candidates = s.exec(
                select(DeliveryRow.id)
                .where(_due(now))
                .order_by(col(DeliveryRow.next_attempt_at), col(DeliveryRow.id))
                .limit(limit)
            ).all()
            won: list[int] = []
            for delivery_id in candidates:
                assert delivery_id is not None
                stmt = (
                    update(DeliveryRow)
                    .where(col(DeliveryRow.id) == delivery_id, _due(now))
                    .values(state="sending", lease_owner=owner, lease_until=until)
                    .execution_options(synchronize_session=False)
                )
                if s.exec(stmt).rowcount == 1:
                    won.append(delivery_id)
            if not won:
                return []
            rows = s.exec(
                select(DeliveryRow, AlertRow)
                .join(AlertRow, col(DeliveryRow.alert_id) == col(AlertRow.id))
                .where(col(DeliveryRow.id).in_(won))
                .order_by(col(DeliveryRow.next_attempt_at), col(DeliveryRow.id))
            ).all()
            jobs = []
            for delivery, alert in rows:
                assert delivery.id is not None
                assert alert.id is not None
                jobs.append(
                    DeliveryJob(
                        delivery_id=delivery.id,
                        alert_id=alert.id,
                        target_id=delivery.target_id,
                        target_label=delivery.target_label,
                        attempts=delivery.attempts,
                        message=_message(alert),
                    )
                )
            return jobs

    def _mark(self, delivery_id: int, owner: str, values: dict[str, Any]) -> bool:
        values = {
            **values,
            "attempts": col(DeliveryRow.attempts) + 1,
            "lease_owner": None,
            "lease_until": None,
        }
        with self._write() as s:
            stmt = (
                update(DeliveryRow)
                .where(
                    col(DeliveryRow.id) == delivery_id,
                    col(DeliveryRow.state) == "sending",
                    col(DeliveryRow.lease_owner) == owner,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            return s.exec(stmt).rowcount == 1

    def mark_sent(self, delivery_id: int, owner: str, now: datetime) -> bool:
        """The channel reported success. Counts the attempt. False unless owner holds the row."""
        return self._mark(delivery_id, owner, {"state": "sent", "sent_at": now, "last_error": None})

    def mark_retry(
        self, delivery_id: int, owner: str, error: str, next_attempt_at: datetime
    ) -> bool:
        """A failed attempt to try again at next_attempt_at. False unless owner holds the row."""
        values = {"state": "pending", "last_error": error, "next_attempt_at": next_attempt_at}
        return self._mark(delivery_id, owner, values)

    def mark_failed(self, delivery_id: int, owner: str, error: str) -> bool:
        """A failed attempt that ends the delivery; the row stays, visible with its error."""
        return self._mark(delivery_id, owner, {"state": "failed", "last_error": error})

    def pending_count(self) -> int:
        """Deliveries not yet finished: pending or being sent."""
        with self._read() as s:
            stmt = select(func.count()).where(col(DeliveryRow.state).in_(["pending", "sending"]))
            return int(s.exec(stmt).one())

    def next_delivery_due(self) -> datetime | None:
        """The earliest next_attempt_at of a pending delivery, to know when to wake the sender."""
        with self._read() as s:
            stmt = select(func.min(DeliveryRow.next_attempt_at)).where(
                col(DeliveryRow.state) == "pending"
            )
            value = s.exec(stmt).one()
            # func.min loses the column type on some backends: restore UTC by hand
            if value is None:
                return None
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    # --- status --------------------------------------------------------------------------------

    def alerts(self, limit: int) -> list[AlertStatus]:
        """The latest alerts, newest first, each with the state of its deliveries."""
        with self._read() as s:
            alerts = s.exec(
                select(AlertRow)
                .order_by(col(AlertRow.created_at).desc(), col(AlertRow.id).desc())
                .limit(limit)
            ).all()
            ids = [a.id for a in alerts]
            by_alert: dict[int, list[DeliveryStatus]] = {}
            deliveries = s.exec(
                select(DeliveryRow)
                .where(col(DeliveryRow.alert_id).in_(ids))
                .order_by(col(DeliveryRow.target_id))
            )
            for d in deliveries:
                by_alert.setdefault(d.alert_id, []).append(
                    DeliveryStatus(
                        target_id=d.target_id,
                        target_label=d.target_label,
                        state=d.state,
                        attempts=d.attempts,
                        last_error=d.last_error,
                        next_attempt_at=d.next_attempt_at,
                        sent_at=d.sent_at,
                    )
                )
            out = []
            for a in alerts:
                assert a.id is not None
                out.append(
                    AlertStatus(
                        alert_id=a.id,
                        created_at=a.created_at,
                        rule_id=a.rule_id,
                        severity=a.severity,
                        article_title=a.payload["article_title"],
                        source=a.payload["source"],
                        link=a.payload.get("link"),
                        deliveries=tuple(by_alert.get(a.id, ())),
                    )
                )
            return out

    def counts(self) -> Counts:
        with self._read() as s:
            articles = s.exec(select(func.count()).select_from(ArticleRow)).one()
            alerts = s.exec(select(func.count()).select_from(AlertRow)).one()
            by_state: dict[str, int] = dict.fromkeys(DELIVERY_STATES, 0)
            stmt = select(DeliveryRow.state, func.count()).group_by(col(DeliveryRow.state))
            for state, n in s.exec(stmt):
                by_state[state] = int(n)
            return Counts(articles=int(articles), alerts=int(alerts), deliveries=by_state)

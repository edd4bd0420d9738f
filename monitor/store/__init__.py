"""Storage: articles and their dedup keys, alerts, the delivery outbox, feed state, rule memory.

The only package that imports SQLModel / SQLAlchemy. SQLite (WAL) by default; the same models run
on PostgreSQL (psycopg 3) with several workers, each with its own worker id, and the tests run on
both. Every claim (of a feed, of a delivery) is a single UPDATE ... WHERE <state/lease condition>;
its rowcount says who won. Where the backends differ: SQLite writes begin IMMEDIATE; PostgreSQL
(READ COMMITTED) re-checks an UPDATE's condition after waiting for a row, claims deliveries with
FOR UPDATE SKIP LOCKED, serialises schema creation with an advisory lock, and cannot store NUL in
text (it becomes U+FFFD). Writers lock keys and rule rows in sorted order so they cannot deadlock.

Failures reach callers as StoreError, one readable line with the URL's password masked (only
IntegrityError, a constraint the caller broke, passes as is): callers need not import SQLAlchemy.

The store never reads a clock: every time is a UTC-aware datetime passed in by the caller, and
every time read back is UTC-aware (SQLite keeps no offset, so it is restored on read).

The package: tables (the SQLModel tables), records (what the store takes and hands out), engine
(connection set-up, schema version and migrations), base (sessions and upsert), and the Store's
parts by responsibility: articles (dedup commit and rule memory), feeds, outbox and status.
"""

from monitor.store.engine import MIGRATIONS, SCHEMA_VERSION, Migration, StoreError
from monitor.store.records import (
    DELIVERY_STATES,
    AlertDraft,
    AlertStatus,
    Counts,
    DeliveryJob,
    DeliveryState,
    DeliveryStatus,
    FeedState,
)
from monitor.store.store import Store
from monitor.store.tables import (
    AlertRow,
    ArticleKeyRow,
    ArticleRow,
    DeliveryRow,
    FeedStateRow,
    RegionSeenRow,
    RuleFireRow,
    RuleStateRow,
    SchemaVersionRow,
)

__all__ = [
    "DELIVERY_STATES",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "AlertDraft",
    "AlertRow",
    "AlertStatus",
    "ArticleKeyRow",
    "ArticleRow",
    "Counts",
    "DeliveryJob",
    "DeliveryRow",
    "DeliveryState",
    "DeliveryStatus",
    "FeedState",
    "FeedStateRow",
    "Migration",
    "RegionSeenRow",
    "RuleFireRow",
    "RuleStateRow",
    "SchemaVersionRow",
    "Store",
    "StoreError",
]

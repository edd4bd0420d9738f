"""The engine (SQLite pragmas and BEGIN IMMEDIATE for writes; PostgreSQL text that cannot hold
NUL), the schema version and migrations."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel, col, create_engine, select, update

from monitor.store.tables import SchemaVersionRow, table_of

SCHEMA_VERSION = 1
Migration = Callable[[Connection], None]
# version n -> the step that upgrades a database from n to n + 1. Empty while there is one version.
MIGRATIONS: Mapping[int, Migration] = {}

# execution option: this transaction will write (BEGIN IMMEDIATE on SQLite)
WRITE = "monitor_write"
# PostgreSQL advisory lock held while the schema is created or migrated: workers that start
# together would otherwise race to CREATE the same tables and fail.
MIGRATION_LOCK = 0x6D6F6E69746F72  # 'monitor'


class StoreError(Exception):
    """The database cannot be used by this version of the code."""


def _without_nul(value: Any) -> Any:
    return value.replace("\x00", "\ufffd") if isinstance(value, str) and "\x00" in value else value


def _strip_nul(parameters: Any) -> Any:
    """The statement's parameters with NUL in strings replaced by U+FFFD (PostgreSQL text
    cannot hold NUL; a feed can carry one)."""
    if isinstance(parameters, dict):
        return {k: _without_nul(v) for k, v in parameters.items()}
    if isinstance(parameters, tuple):
        return tuple(_without_nul(v) for v in parameters)
    if isinstance(parameters, list):  # executemany
        return [_strip_nul(p) for p in parameters]
    return parameters


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(parsed, pool_pre_ping=True)

        @event.listens_for(engine, "before_cursor_execute", retval=True)
        def _no_nul(
            _conn: Connection,
            _cursor: Any,
            statement: str,
            parameters: Any,
            _context: Any,
            _executemany: bool,
        ) -> tuple[str, Any]:
            return statement, _strip_nul(parameters)

        return engine
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
        immediate = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def migrate(writer: Engine, target: int, migrations: Mapping[int, Migration]) -> None:
    """Create missing tables and bring the schema version to target, in one write transaction.

    Workers opening the same database at once take turns: SQLite's BEGIN IMMEDIATE, a
    transaction-scoped advisory lock on PostgreSQL (its DDL is transactional).
    """
    with writer.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        SQLModel.metadata.create_all(conn)
        current = conn.execute(select(SchemaVersionRow.version)).scalar_one_or_none()
        if current is None:  # a new database: create_all made the current schema
            conn.execute(table_of(SchemaVersionRow).insert().values(id=1, version=target))
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
                update(SchemaVersionRow).where(col(SchemaVersionRow.id) == 1).values(version=target)
            )

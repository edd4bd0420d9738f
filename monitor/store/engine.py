"""The engine (SQLite pragmas and BEGIN IMMEDIATE for writes; PostgreSQL text that cannot hold
NUL), the schema version and migrations."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
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
    """The database cannot be opened or used: unreachable, not a database URL, a folder that
    cannot be created, a schema this code cannot handle, or a database error in a later call.
    The message is one readable line; a database URL in it has its password masked."""


def masked_url(url: str | URL) -> str:
    """The URL as text with its password replaced by ***, even when it does not parse."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def _password(url: str | URL) -> str | None:
    try:
        return (url if isinstance(url, URL) else make_url(url)).password
    except (ArgumentError, ValueError):
        return None


def reason(exc: BaseException, url: str | URL = "") -> str:
    """A short readable reason for a failure to open or use the database, one line, without the
    URL's password."""
    if isinstance(exc, StoreError):
        text_ = str(exc)
    elif isinstance(exc, NoSuchModuleError):
        text_ = f"unknown kind of database {_scheme(url)!r}"
    elif isinstance(exc, ArgumentError):
        text_ = "not a database URL"
    elif isinstance(exc, ImportError):
        text_ = f"its driver is not installed (no module {exc.name or '?'})"
    elif isinstance(exc, DBAPIError):
        text_ = _driver_reason(str(exc.orig))
    else:
        text_ = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    password = _password(url)
    if password:
        text_ = text_.replace(password, "***")
    return text_


def _scheme(url: str | URL) -> str:
    return url.drivername if isinstance(url, URL) else str(url).split(":", 1)[0]


def _driver_reason(message: str) -> str:
    """The driver's message cut to its point: psycopg's 'connection failed: connection to
    server at "h", port 1 failed: FATAL:  password authentication failed ...' -> 'password
    authentication failed ...'."""
    lines = message.strip().splitlines()
    first = lines[0].strip() if lines else "unknown database error"
    first = first.rsplit(" failed: ", 1)[-1]
    first = re.sub(r"^(FATAL|ERROR):\s*", "", first).strip()
    return first[:1].lower() + first[1:] if first[:1].isupper() and first[1:2].islower() else first


def sqlite_file(url: URL) -> Path | None:
    """The file of an SQLite URL; None for an in-memory database, a URI filename, or another
    database."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


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


def make_engine(url: str | URL, *, create: bool = True) -> Engine:
    """An engine for the URL; does not connect. With create, makes an SQLite file's folder.

    Raises StoreError when the folder cannot be created; SQLAlchemy's ArgumentError (or
    ValueError) for text that is not a database URL, ImportError for a missing driver.
    """
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
        folder = Path(database).expanduser().parent
        if create:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create folder {folder}: {exc.strerror or exc}") from exc
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below): pysqlite's own transaction handling defers the
        # write lock, and a deferred reader that later writes fails at once instead of waiting.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        # the busy timeout first: switching to WAL needs a lock another process may hold
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
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
            raise _newer(current, target)
        for version in range(current, target):
            step = migrations.get(version)
            if step is None:
                raise StoreError(f"no migration from schema version {version}")
            step(conn)
        if current != target:
            conn.execute(
                update(SchemaVersionRow).where(col(SchemaVersionRow.id) == 1).values(version=target)
            )


def _newer(current: int, target: int) -> StoreError:
    return StoreError(f"written by a newer version of the monitor (schema {current} > {target})")


def check_schema(engine: Engine, target: int) -> None:
    """For a store opened without create: the tables exist at the schema version target.

    Reads only: creates nothing and migrates nothing. Raises StoreError otherwise.
    """
    with engine.connect() as conn:
        current = None
        if inspect(conn).has_table(table_of(SchemaVersionRow).name):
            current = conn.execute(select(SchemaVersionRow.version)).scalar_one_or_none()
    if current is None:
        raise StoreError("it has no monitor tables yet: run `monitor run` first")
    if current > target:
        raise _newer(current, target)
    if current < target:
        raise StoreError(
            f"its schema {current} is older than this program's {target}: "
            "run `monitor run` to upgrade it"
        )

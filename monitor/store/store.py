"""The Store: one object composed of its parts, opened on a database URL."""

from __future__ import annotations

import time
from collections.abc import Mapping

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from monitor.store.articles import ArticleStore
from monitor.store.engine import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Migration,
    StoreError,
    check_schema,
    make_engine,
    masked_url,
    migrate,
    reason,
    sqlite_file,
)
from monitor.store.feeds import FeedStore
from monitor.store.outbox import OutboxStore
from monitor.store.status import StatusStore

_OPEN_ATTEMPTS = 6


class Store(ArticleStore, FeedStore, OutboxStore, StatusStore):
    """The database. Each method is one short transaction; the object holds no other state.

    Safe to share between threads (each call takes its own connection) and between processes on
    the same database (claims and the UNIQUE key constraint arbitrate).
    """

    @classmethod
    def open(
        cls,
        url: str,
        *,
        create: bool = True,
        schema_version: int = SCHEMA_VERSION,
        migrations: Mapping[int, Migration] = MIGRATIONS,
    ) -> Store:
        """Connect, create the file's folder and missing tables, and migrate forward.

        With create=False (for commands that only read) nothing is created or migrated: a
        missing SQLite file, a database without the tables, or one at another schema version
        raises StoreError.

        Every failure raises StoreError with one line naming the URL, its password masked, and
        the reason: not a database URL, connection refused, a folder that cannot be created, a
        schema newer than this code or a missing migration step. Does not migrate backwards.
        """
        shown = masked_url(url)
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError) as exc:
            raise StoreError(f"cannot open the database {shown}: not a database URL") from exc
        if not create:
            path = sqlite_file(parsed)
            if path is not None and not path.exists():
                raise StoreError(f"no database at {path} yet: run `monitor run` first")
        try:
            engine = make_engine(parsed, create=create)
        except (StoreError, SQLAlchemyError, ImportError) as exc:
            raise StoreError(f"cannot open the database {shown}: {reason(exc, parsed)}") from exc
        store = cls(engine)
        try:
            for attempt in range(1, _OPEN_ATTEMPTS + 1):
                try:
                    if create:
                        migrate(store._writer, schema_version, migrations)
                    else:
                        check_schema(store._engine, schema_version)
                    break
                except OperationalError as exc:
                    # SQLite answers 'database is locked' at once, without waiting, when
                    # several processes switch a new file to WAL together: try again shortly.
                    if "locked" not in str(exc) or attempt == _OPEN_ATTEMPTS:
                        raise
                    time.sleep(0.1 * attempt)
        except (StoreError, SQLAlchemyError) as exc:
            store.close()
            raise StoreError(f"cannot open the database {shown}: {reason(exc, parsed)}") from exc
        except BaseException:
            store.close()
            raise
        return store

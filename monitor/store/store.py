"""The Store: one object composed of its parts, opened on a database URL."""

from __future__ import annotations

from collections.abc import Mapping

from monitor.store.articles import ArticleStore
from monitor.store.engine import MIGRATIONS, SCHEMA_VERSION, Migration, make_engine, migrate
from monitor.store.feeds import FeedStore
from monitor.store.outbox import OutboxStore
from monitor.store.status import StatusStore


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
        schema_version: int = SCHEMA_VERSION,
        migrations: Mapping[int, Migration] = MIGRATIONS,
    ) -> Store:
        """Connect, create the file's folder and missing tables, and migrate forward.

        Raises StoreError when the database was written by a newer schema, or a migration step is
        missing. Does not migrate backwards.
        """
        store = cls(make_engine(url))
        try:
            migrate(store._writer, schema_version, migrations)
        except BaseException:
            store.close()
            raise
        return store

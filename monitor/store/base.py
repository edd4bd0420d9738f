"""What every part of the Store shares: the engine, read and write sessions, and upsert."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, SQLModel

from monitor.store.engine import WRITE, StoreError, masked_url, reason
from monitor.store.tables import table_of


class StoreBase:
    """The engine and the session helpers the Store's parts are built on."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE: True})

    def close(self) -> None:
        """Release all connections. The Store must not be used afterwards."""
        self._engine.dispose()

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """SQLAlchemy's errors as StoreError with a readable reason; IntegrityError passes (a
        constraint the caller broke, see commit_article)."""
        try:
            yield
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            url = self._engine.url
            raise StoreError(f"database {masked_url(url)}: {reason(exc, url)}") from exc

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._translated(), Session(self._engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction, committed on normal exit and rolled back on an exception."""
        with self._translated(), Session(self._writer, expire_on_commit=False) as session:
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
        table = table_of(model)
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

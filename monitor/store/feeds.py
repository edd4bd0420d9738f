"""Feed state: leases, conditional-request validators, failures and backoff."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, or_, select, update

from monitor.records import Validators
from monitor.store.base import StoreBase
from monitor.store.records import FeedState
from monitor.store.tables import FeedStateRow


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


class FeedStore(StoreBase):
    """What is remembered about each feed, and who may fetch it now."""

    def get_feed_state(self, name: str) -> FeedState | None:
        with self._read() as s:
            row = s.get(FeedStateRow, name)
            return _feed_state(row) if row else None

    def feed_states(self) -> list[FeedState]:
        """Every feed, by name in code-point order (sorted here: PostgreSQL's collation may not be)."""
        with self._read() as s:
            rows = sorted(s.exec(select(FeedStateRow)), key=lambda r: r.name)
            return [_feed_state(r) for r in rows]

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
            # A new address in feeds.yaml starts afresh: the old server's redirect target,
            # validators and backoff say nothing about the new one.
            moved = (
                update(FeedStateRow)
                .where(col(FeedStateRow.name) == name, col(FeedStateRow.url) != url)
                .values(
                    url=url,
                    permanent_url=None,
                    etag=None,
                    last_modified=None,
                    failures=0,
                    next_attempt_at=None,
                    last_success=None,  # the new address's first poll is a backlog again
                )
                .execution_options(synchronize_session=False)
            )
            s.exec(moved)
            self._upsert(s, FeedStateRow, {"name": name, "url": url}, ("name",), None)
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

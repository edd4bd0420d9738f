"""The delivery outbox: claiming due deliveries under a lease, and marking their outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import and_, col, func, or_, select, update

from monitor.records import AlertMessage
from monitor.store.base import StoreBase
from monitor.store.records import DeliveryJob
from monitor.store.tables import AlertRow, DeliveryRow


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


def _due(now: datetime) -> Any:
    """Deliveries a worker may take: pending and due, or 'sending' under an expired lease."""
    return or_(
        and_(col(DeliveryRow.state) == "pending", col(DeliveryRow.next_attempt_at) <= now),
        and_(col(DeliveryRow.state) == "sending", col(DeliveryRow.lease_until) <= now),
    )


class OutboxStore(StoreBase):
    """Deliveries waiting, being sent, sent or failed."""

    def claim_deliveries(
        self, owner: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[DeliveryJob]:
        """Move up to limit due deliveries to 'sending' under owner's lease and return them.

        Due: pending with next_attempt_at <= now, or 'sending' with an expired lease (its worker
        died mid-send: the message may have gone out once already, so delivery is at least once).
        Each row is taken by its own conditional UPDATE; a row another worker took first is
        skipped, so two workers never hold the same delivery. On PostgreSQL the candidates are
        also locked with FOR UPDATE SKIP LOCKED, so a worker passes over rows another worker is
        claiming right now instead of waiting for them (SQLite, which locks the whole database
        for a write, compiles no FOR UPDATE).
        """
        until = now + timedelta(seconds=lease_seconds)
        with self._write() as s:
            candidates = s.exec(
                select(DeliveryRow.id)
                .where(_due(now))
                .order_by(col(DeliveryRow.next_attempt_at), col(DeliveryRow.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
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

    def _mark(
        self, delivery_id: int, owner: str, values: dict[str, Any], *, attempt: bool = True
    ) -> bool:
        values = {**values, "lease_owner": None, "lease_until": None}
        if attempt:
            values["attempts"] = col(DeliveryRow.attempts) + 1
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

    def release(self, delivery_id: int, owner: str) -> bool:
        """Hand a claimed delivery back untried (the worker is stopping): pending again, due
        at once, and no attempt counted. False unless owner holds the row."""
        return self._mark(delivery_id, owner, {"state": "pending"}, attempt=False)

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

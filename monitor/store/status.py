"""Read-only views for status reports: the latest alerts and the table counts."""

from __future__ import annotations

from sqlmodel import col, func, select

from monitor.store.base import StoreBase
from monitor.store.records import DELIVERY_STATES, AlertStatus, Counts, DeliveryStatus
from monitor.store.tables import AlertRow, ArticleRow, DeliveryRow


class StatusStore(StoreBase):
    """What the status commands show."""

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
            # by target id in code-point order, sorted here: PostgreSQL's collation may differ
            deliveries = sorted(
                s.exec(select(DeliveryRow).where(col(DeliveryRow.alert_id).in_(ids))),
                key=lambda d: d.target_id,
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

"""The frozen records the store takes and hands out; no database types appear in them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from monitor.records import AlertMessage, Match, Validators

DeliveryState = Literal["pending", "sending", "sent", "failed"]
DELIVERY_STATES: tuple[DeliveryState, ...] = ("pending", "sending", "sent", "failed")


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
    cooldown: float = 0.0  # seconds; > 0: stored only if no alert of its key came within it
    new_places: tuple[str, ...] = ()  # new-region alert: place ids that must still be unseen
    window: float = 0.0  # seconds a place stays seen, for new_places

    @classmethod
    def from_match(
        cls,
        match: Match,
        *,
        cooldown_key: str,
        targets: Sequence[tuple[str, str]],
        figure: str | None = None,
        cooldown: float = 0.0,
        new_places: Sequence[str] = (),
        window: float = 0.0,
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
            cooldown=cooldown,
            new_places=tuple(new_places),
            window=window,
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

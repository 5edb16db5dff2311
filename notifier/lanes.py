"""Which warnings take the emergency lane: Severe and Extreme ones never wait behind routine ones."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier.models import Alert, Delivery

# CAP severities that threaten life or property now (CAP 1.2 §3.2.1: "Extraordinary" and
# "Significant threat to life or property"). Moderate, Minor and Unknown go the routine way.
EMERGENCY_SEVERITIES = frozenset({"Extreme", "Severe"})
# Ids per look-up: well under SQLite's limit on bound parameters.
CHUNK = 1000


def is_emergency(severity: str | None) -> bool:
    """True when an alert of this CAP severity takes the emergency lane."""
    return severity in EMERGENCY_SEVERITIES


def alert_is_emergency(session: Session, alert_id: int) -> bool:
    """True when alert `alert_id` takes the emergency lane (False when there is no such alert)."""
    return is_emergency(session.scalar(select(Alert.severity).where(Alert.id == alert_id)))


def emergency_deliveries(session: Session, delivery_ids: Iterable[int]) -> set[int]:
    """The deliveries among `delivery_ids` whose alert takes the emergency lane."""
    ids = list(delivery_ids)
    found: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        found.update(session.scalars(
            select(Delivery.id).join(Alert, Alert.id == Delivery.alert_id)
            .where(Delivery.id.in_(ids[start:start + CHUNK]),
                   Alert.severity.in_(sorted(EMERGENCY_SEVERITIES)))))
    return found

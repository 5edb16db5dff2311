"""The frequency guard (DESIGN §12): at most MAX_ROUTINE_PER_DAY routine topic alerts reach a
resident in one local day; the rest are skipped with the reason.

Only alerts that carry a topic and are routine (they would wait in quiet hours) count and are
capped: a warning of danger is never held back by how many newsletters went out. A resident
reached by one alert on two channels got one message. The day is the alert's send day in
TIMEZONE. The counting is a pure function (`capped`); the SQL here only gathers its inputs.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notifier.models import Alert, Delivery
from notifier.quiet_hours import day_bounds, is_routine

# Stored as the skipped rows' reason, like "opted out" (shown as written).
REASON = "daily limit of routine messages reached"
# Rows that never reached the resident do not use up the day's allowance.
NOT_COUNTED = ("skipped", "cancelled")


def applies(alert, cap: int) -> bool:
    """True when the guard caps `alert`: a limit is set, it has a topic, and it is routine."""
    return cap > 0 and bool(getattr(alert, "topic", None)) and is_routine(alert.severity,
                                                                         alert.urgency)


def capped(already: Mapping[int, int], residents: Iterable[int], cap: int) -> set[int]:
    """Of `residents`, those who already got `cap` or more guarded alerts today (`already`:
    resident id → guarded alerts that reached them today); none when `cap` is 0 (no limit)."""
    if cap <= 0:
        return set()
    return {r for r in residents if already.get(r, 0) >= cap}


def guarded_today(session: Session, alert, zone: ZoneInfo, now: datetime) -> list[int]:
    """Ids of the other alerts sent on `alert`'s send day that the guard counts (a day has
    few alerts: their topic is read from each, as the model has it)."""
    start, end = day_bounds(alert.sent_at or now, zone)
    sent = session.scalars(select(Alert).where(Alert.sent_at >= start, Alert.sent_at < end,
                                               Alert.id != alert.id)).all()
    return [a.id for a in sent if applies(a, 1)]


def counts(session: Session, alert_ids: list[int],
           residents: Iterable[int] | None = None) -> dict[int, int]:
    """Resident id → how many of `alert_ids` reached them (a delivery not skipped or
    cancelled), for `residents` (None: everyone those alerts reached)."""
    if not alert_ids:
        return {}
    stmt = (select(Delivery.subscriber_id, func.count(Delivery.alert_id.distinct()))
            .where(Delivery.alert_id.in_(alert_ids), Delivery.subscriber_id.is_not(None),
                   Delivery.status.not_in(NOT_COUNTED))
            .group_by(Delivery.subscriber_id))
    if residents is not None:
        wanted = list(residents)
        if not wanted:
            return {}
        stmt = stmt.where(Delivery.subscriber_id.in_(wanted))
    return {sub_id: n for sub_id, n in session.execute(stmt)}

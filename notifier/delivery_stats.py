"""Read-outs of an alert's deliveries: counts per channel and status, failovers, recent errors.

Read only: every write to a delivery goes through notifier/deliveries.py.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from notifier.deliveries import FAILED, SKIPPED, STATUSES, UNDELIVERED
from notifier.models import Delivery


def stats(session: Session, alert_id: int) -> dict:
    """Return {"recipients", "channels": {channel: {status: n}}, "acknowledged", "failovers":
    {"sms→voice": n}} for an alert (failovers: deliveries made after another channel failed
    for good, by the channel left and the channel taken; notifier.failover)."""
    channels: dict[str, dict[str, int]] = {}
    rows = session.execute(select(Delivery.channel, Delivery.status, func.count())
                           .where(Delivery.alert_id == alert_id)
                           .group_by(Delivery.channel, Delivery.status))
    for channel, status, count in rows:
        channels.setdefault(channel, dict.fromkeys(STATUSES, 0))[status] = count
    reached = (select(func.count(func.distinct(Delivery.subscriber_id)))
               .where(Delivery.alert_id == alert_id, Delivery.status.not_in((SKIPPED,))))
    acknowledged = (select(func.count()).where(and_(Delivery.alert_id == alert_id,
                                                    Delivery.acknowledged_at.is_not(None))))
    return {"recipients": session.scalar(reached) or 0, "channels": channels,
            "acknowledged": session.scalar(acknowledged) or 0,
            "failovers": failover_counts(session, alert_id)}


def failover_counts(session: Session, alert_id: int) -> dict[str, int]:
    """{"sms→voice": n, …}: the failover deliveries of `alert_id`, by the channel they left
    and the channel they took."""
    table = Delivery.__table__
    original = table.alias("original")
    rows = session.execute(
        select(original.c.channel, table.c.channel, func.count())
        .select_from(table.join(original, original.c.id == table.c.failover_of))
        .where(table.c.alert_id == alert_id, table.c.failover_of.is_not(None))
        .group_by(original.c.channel, table.c.channel))
    return {f"{left}→{taken}": n for left, taken, n in sorted(rows)}


def recent_errors(session: Session, since: datetime, limit: int = 20) -> list[dict]:
    """Failed and undelivered deliveries updated since `since`, per (channel, error code),
    most frequent first: {"channel", "error_code", "count", "alert_id" (the latest alert
    hit), "error_message" (one example)}. The dashboard's "last errors"."""
    count = func.count()
    rows = session.execute(
        select(Delivery.channel, Delivery.error_code, count, func.max(Delivery.alert_id),
               func.max(Delivery.error_message))
        .where(Delivery.status.in_((FAILED, UNDELIVERED)), Delivery.updated_at >= since)
        .group_by(Delivery.channel, Delivery.error_code)
        .order_by(count.desc(), Delivery.channel, Delivery.error_code).limit(limit))
    return [{"channel": channel, "error_code": code, "count": n, "alert_id": alert_id,
             "error_message": message} for channel, code, n, alert_id, message in rows]

"""What the public sees: which alerts are public (the page /a/<public id> and the feeds), their
follow-ups, and which zones an alert concerns (a zone's own feed).

Public means a sent `Actual` alert (`cap.is_public`): drafts, Exercise and Test never show, and
neither does an alert that never went out. A cancelled public alert stays public: its page says
it was stopped and points to the all-clear or update, rather than vanishing for someone who
follows a link from an SMS or a post.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from notifier import cap, geo
from notifier.alerts import CANCELLED, SENDING, SENT
from notifier.models import Alert, Zone
from notifier.public_ids import looks_like
from notifier.zone_overlap import area_of, concerns

FEED_SIZE = 50
NOTICE_HOURS = 24  # a cancelled public alert's CAP Cancel stays in the feeds this long
# A zone's feed picks its entries from this many newest public alerts (active ones rarely
# number more than a few dozen; alerts without an expiry stay active until cancelled).
ZONE_SCAN = 1_000


def is_public(alert: Alert) -> bool:
    """True for a sent Actual alert (cancelled or expired included)."""
    return cap.is_public(alert)


def by_public_id(session: Session, public_id: str) -> Alert | None:
    """The public alert with this public id, or None (unknown, or not public)."""
    if not looks_like(public_id):
        return None
    alert = session.scalar(select(Alert).where(Alert.public_id == public_id))
    return alert if alert is not None and is_public(alert) else None


def _public():
    return (Alert.status == "Actual", Alert.state.in_((SENDING, SENT, CANCELLED)),
            Alert.sent_at.is_not(None))


def active(session: Session, now: datetime, limit: int = FEED_SIZE) -> list[Alert]:
    """Actual alerts that went out, are not cancelled and not expired, newest first."""
    query = (select(Alert)
             .where(Alert.status == "Actual", Alert.state.in_((SENDING, SENT)),
                    Alert.sent_at.is_not(None), Alert.cancelled_at.is_(None),
                    or_(Alert.expires_at.is_(None), Alert.expires_at > now))
             .order_by(func.coalesce(Alert.sent_at, Alert.created_at).desc(), Alert.id.desc())
             .limit(limit))
    return list(session.scalars(query))


def recently_cancelled(session: Session, now: datetime, limit: int = FEED_SIZE) -> list[Alert]:
    """Public alerts cancelled in the last NOTICE_HOURS with no public follow-up (an all-clear
    or an update lists itself): the feeds carry a CAP Cancel for each instead."""
    follow_up = aliased(Alert)
    followed = (select(follow_up.id)
                .where(follow_up.references_alert_id == Alert.id, follow_up.sent_at.is_not(None))
                .exists())
    query = (select(Alert)
             .where(Alert.status == "Actual", Alert.sent_at.is_not(None),
                    Alert.cancelled_at.is_not(None),
                    Alert.cancelled_at > now - timedelta(hours=NOTICE_HOURS), ~followed,
                    or_(Alert.expires_at.is_(None), Alert.expires_at > now))
             .order_by(Alert.cancelled_at.desc(), Alert.id.desc()).limit(limit))
    return list(session.scalars(query))


def follow_ups(session: Session, alert: Alert) -> list[Alert]:
    """The public alerts that follow this one up (all-clears, updates), oldest first."""
    rows = session.scalars(select(Alert).where(Alert.references_alert_id == alert.id, *_public())
                           .order_by(Alert.sent_at, Alert.id))
    return list(rows)


def original_of(session: Session, alert: Alert) -> Alert | None:
    """The public alert this one follows up, or None."""
    if alert.references_alert_id is None:
        return None
    original = session.get(Alert, alert.references_alert_id)
    return original if original is not None and is_public(original) else None


def in_zone(alerts: list[Alert], zone: Zone) -> list[Alert]:
    """The alerts (order kept) whose area concerns `zone`."""
    shape = geo.shape_of(zone.geometry) if zone.geometry else None
    return [a for a in alerts if concerns(area_of(a), zone.code, shape)]

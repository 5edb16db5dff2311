"""A cheap fingerprint of what CAP documents and feeds are made of, read in one query.

A process caching a rendered feed or CAP document compares this before each use, so a send or
cancel made by another process (a second gunicorn worker, a worker's fan-out) is seen at once.
Alert changes that matter are one-way (draft → sending sets `sent_at`, a cancel sets
`cancelled_at`, a new alert adds a row), so counting them never misses one whatever the
clocks say; zones add their count and latest `updated_at` (their polygons are in documents).
Expiry is not here: it depends on the time, so a cached document carries its own end.
"""
from __future__ import annotations

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from notifier.models import Alert, Zone


def _statement():
    alerts = select(func.count().label("alerts"), func.max(Alert.id).label("last_alert"),
                    func.count(Alert.sent_at).label("sent"),
                    func.count(Alert.cancelled_at).label("cancelled")).subquery()
    zones = select(func.count().label("zones"),
                   func.max(Zone.updated_at).label("zone_updated")).subquery()
    return select(alerts, zones).join_from(alerts, zones, true())


_VERSION = _statement()  # built once: it runs on every feed request


def documents_version(session: Session) -> tuple:
    """A value that changes whenever an alert is added, sent or cancelled, or a zone changes."""
    # Core on the session's connection: the ORM's execute path costs more than the query.
    return tuple(session.connection().execute(_VERSION).one())

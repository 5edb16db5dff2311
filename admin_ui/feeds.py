"""Public feeds: `/feeds/alerts.atom`, active public Actual alerts as CAP-in-Atom (no sign-in),
and their CAP documents; both built once per change (doc_cache) and answered conditionally."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, abort
from lxml import etree
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import aliased

from admin_ui import db, doc_cache, get_settings
from notifier import cap
from notifier.alerts import DRAFT, SENDING, SENT, cap_sender
from notifier.models import Alert, Zone
from notifier.text_rules import xml_safe

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

ATOM = "http://www.w3.org/2005/Atom"
_A = f"{{{ATOM}}}"
FEED_SIZE = 50
NOTICE_HOURS = 24  # a cancelled public alert's CAP Cancel stays in the feed this long
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def cap_url(settings, alert: Alert) -> str:
    """The public address of an alert's CAP document (identifiers are URL-safe by construction)."""
    return f"{settings.public_url}/feeds/alerts/{alert.identifier}.xml"


def _rfc3339(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def active_alerts(session, now: datetime, limit: int = FEED_SIZE) -> list[Alert]:
    """Actual alerts that went out, are not cancelled and not expired, newest first."""
    query = (select(Alert)
             .where(Alert.status == "Actual", Alert.state.in_((SENDING, SENT)),
                    Alert.sent_at.is_not(None), Alert.cancelled_at.is_(None),
                    or_(Alert.expires_at.is_(None), Alert.expires_at > now))
             .order_by(func.coalesce(Alert.sent_at, Alert.created_at).desc(), Alert.id.desc())
             .limit(limit))
    return list(session.scalars(query))


def cancelled_alerts(session, now: datetime, limit: int = FEED_SIZE) -> list[Alert]:
    """Public alerts cancelled in the last NOTICE_HOURS with no public follow-up (an all-clear
    or an update lists itself): the feed carries a CAP Cancel for each instead."""
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


@bp.get("/alerts.atom")
def alerts_atom():
    """Atom feed; each entry links its CAP document and carries it inline (CAP-in-Atom)."""
    session, now = db(), datetime.now(timezone.utc)
    document = doc_cache.cached(session, "alerts.atom", now, lambda: _build_feed(session, now))
    return doc_cache.conditional(document, now)


def _build_feed(session, now: datetime) -> doc_cache.Document:
    settings = get_settings()
    cancelled = cancelled_alerts(session, now)
    notices = [cap.cancel_notice(a, settings) for a in cancelled]
    items = active_alerts(session, now)
    zones = cap.zone_polygons_for(session, items + cancelled)
    changed = last_change(session, items, now)
    feed = etree.Element(_A + "feed", nsmap={None: ATOM})
    _add(feed, "id", f"{settings.public_url}/feeds/alerts.atom")
    _add(feed, "title", f"{settings.agency_name}: active alerts")
    _add(feed, "updated", _rfc3339(changed))
    author = etree.SubElement(feed, _A + "author")
    _add(author, "name", settings.agency_name)
    _link(feed, "self", f"{settings.public_url}/feeds/alerts.atom", "application/atom+xml")
    listed = sorted(items + notices, key=lambda a: (_aware(a.sent_at), a.identifier), reverse=True)
    for alert in listed:
        entry = etree.SubElement(feed, _A + "entry")
        _add(entry, "id", f"urn:cap:{cap_sender(settings)}:{alert.identifier}")
        _add(entry, "title", alert.headline)
        _add(entry, "updated", _rfc3339(alert.sent_at))
        _add(entry, "published", _rfc3339(alert.sent_at))
        _link(entry, "alternate", cap_url(settings, alert), cap.MEDIA_TYPE)
        _add(entry, "summary", next(iter((alert.messages or {}).values()), alert.headline))
        content = etree.SubElement(entry, _A + "content", type=cap.MEDIA_TYPE)
        content.append(etree.fromstring(cap.alert_to_cap(alert, settings, zones)))
    body = etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    # Rebuilt when the first listed alert expires, even if nothing else changes.
    ends = [_aware(a.expires_at) for a in items + cancelled if a.expires_at is not None]
    ends += [_aware(a.cancelled_at) + timedelta(hours=NOTICE_HOURS) for a in cancelled]
    expires = min(ends, default=None)
    return doc_cache.Document(body, "application/atom+xml", changed, expires)


def last_change(session, items: list[Alert], now: datetime) -> datetime:
    """When the feed last changed: a listed alert sent, a public alert cancelled or expired,
    a listed alert's zone redrawn. Never goes back, so If-Modified-Since stays truthful."""
    ended = session.execute(
        select(func.max(Alert.cancelled_at),
               func.max(case((Alert.expires_at <= now, Alert.expires_at))))
        .where(Alert.status == "Actual", Alert.sent_at.is_not(None))).one()
    times = [t for t in (*ended, _zones_changed(session, items), *(a.sent_at for a in items))
             if t is not None]
    # An installation that never sent anything: a fixed time, the same in every process.
    return min(max((_aware(t) for t in times), default=_EPOCH), now)


def _zones_changed(session, alerts: list[Alert]) -> datetime | None:
    """The latest change to a zone the alerts name (their polygons are in the documents)."""
    codes = {c for a in alerts for c in ((a.area or {}).get("zones") or []) if isinstance(c, str)}
    if not codes:
        return None
    return session.scalar(select(func.max(Zone.updated_at)).where(Zone.code.in_(codes)))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@bp.get("/alerts/<identifier>.xml")
def alert_cap(identifier: str):
    """The CAP document of a public alert; 404 for drafts, Exercise and Test alike."""
    session, now = db(), datetime.now(timezone.utc)
    cancelled = identifier.endswith(cap.CANCEL_SUFFIX)
    original = identifier[:-len(cap.CANCEL_SUFFIX)] if cancelled else identifier
    alert = session.scalar(select(Alert).where(Alert.identifier == original))
    if alert is None or not cap.is_public(alert) or (cancelled and alert.cancelled_at is None):
        abort(404)
    if cancelled:
        return doc_cache.conditional(_notice_document(alert, now), now)
    return doc_cache.conditional(cap_document(session, alert, now), now)


def _notice_document(alert: Alert, now: datetime) -> doc_cache.Document:
    """The CAP Cancel standing for a cancelled public alert (it never changes once made)."""
    settings = get_settings()
    body = cap.alert_to_cap(cap.cancel_notice(alert, settings), settings)
    return doc_cache.Document(body, cap.MEDIA_TYPE, _aware(alert.cancelled_at))


def cap_document(session, alert: Alert, now: datetime) -> doc_cache.Document:
    """The alert's CAP document, cached once it went out (a draft's text may still change)."""
    def build() -> doc_cache.Document:
        return doc_cache.Document(cap.cap_document(session, alert, get_settings()),
                                  cap.MEDIA_TYPE, _cap_modified(session, alert))

    if alert.state == DRAFT:
        return build()
    return doc_cache.cached(session, ("cap", alert.identifier), now, build)


def _cap_modified(session, alert: Alert) -> datetime | None:
    if alert.state == DRAFT:
        return None  # a draft may be edited in place: its ETag alone tells
    times = [t for t in (alert.sent_at, _zones_changed(session, [alert])) if t is not None]
    return max((_aware(t) for t in times), default=None)


def _add(parent, name: str, text: str) -> None:
    etree.SubElement(parent, _A + name).text = xml_safe(text)


def _link(parent, rel: str, href: str, media_type: str) -> None:
    etree.SubElement(parent, _A + "link", rel=rel, href=xml_safe(href), type=media_type)

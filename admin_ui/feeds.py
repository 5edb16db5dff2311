"""Public feeds: `/feeds/alerts.atom`, active public Actual alerts as CAP-in-Atom (no sign-in),
`/feeds/zones/<code>.atom`, the same for one zone (a feed per police beat), and their CAP
documents; all built once per change (doc_cache) and answered conditionally."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from flask import Blueprint, abort
from lxml import etree
from sqlalchemy import case, func, select

from admin_ui import db, doc_cache, get_settings
from notifier import cap, public_alerts
from notifier.alerts import DRAFT, cap_sender
from notifier.models import Alert, Zone
from notifier.text_rules import xml_safe

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

ATOM = "http://www.w3.org/2005/Atom"
_A = f"{{{ATOM}}}"
FEED_SIZE = public_alerts.FEED_SIZE
NOTICE_HOURS = public_alerts.NOTICE_HOURS
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def cap_url(settings, alert: Alert) -> str:
    """The public address of an alert's CAP document (identifiers are URL-safe by construction)."""
    return f"{settings.public_url}/feeds/alerts/{alert.identifier}.xml"


def zone_feed_url(settings, code: str) -> str:
    """The public address of a zone's own feed."""
    return f"{settings.public_url}/feeds/zones/{quote(code, safe='')}.atom"


def _rfc3339(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@bp.get("/alerts.atom")
def alerts_atom():
    """Atom feed; each entry links its CAP document and carries it inline (CAP-in-Atom)."""
    session, now = db(), datetime.now(timezone.utc)
    document = doc_cache.cached(session, "alerts.atom", now, lambda: _build_feed(session, now))
    return doc_cache.conditional(document, now)


@bp.get("/zones/<code>.atom")
def zone_atom(code: str):
    """The feed of one zone: the alerts whose area names it or overlaps its interior; 404 for
    a zone that does not exist."""
    session, now = db(), datetime.now(timezone.utc)
    zone = session.get(Zone, code)
    if zone is None:
        abort(404)
    document = doc_cache.cached(session, ("zone.atom", code), now,
                                lambda: _build_feed(session, now, zone))
    return doc_cache.conditional(document, now)


def _build_feed(session, now: datetime, zone: Zone | None = None) -> doc_cache.Document:
    settings = get_settings()
    if zone is None:
        cancelled = public_alerts.recently_cancelled(session, now)
        items = public_alerts.active(session, now)
        self_url = f"{settings.public_url}/feeds/alerts.atom"
        title = f"{settings.agency_name}: active alerts"
    else:
        scan = public_alerts.ZONE_SCAN
        cancelled = public_alerts.in_zone(public_alerts.recently_cancelled(session, now, scan),
                                          zone)[:FEED_SIZE]
        items = public_alerts.in_zone(public_alerts.active(session, now, scan), zone)[:FEED_SIZE]
        self_url = zone_feed_url(settings, zone.code)
        title = f"{settings.agency_name}: active alerts in {zone.name}"
    notices = [cap.cancel_notice(a, settings) for a in cancelled]
    zones = cap.zone_polygons_for(session, items + cancelled)
    # A redrawn zone changes which alerts its feed lists.
    changed = last_change(session, items, now, [zone.updated_at] if zone is not None else [])
    feed = etree.Element(_A + "feed", nsmap={None: ATOM})
    _add(feed, "id", self_url)
    _add(feed, "title", title)
    _add(feed, "updated", _rfc3339(changed))
    author = etree.SubElement(feed, _A + "author")
    _add(author, "name", settings.agency_name)
    _link(feed, "self", self_url, "application/atom+xml")
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


def last_change(session, items: list[Alert], now: datetime,
                extra: list[datetime] | None = None) -> datetime:
    """When the feed last changed: a listed alert sent, a public alert cancelled or expired,
    a listed alert's zone redrawn, or one of the `extra` times. Never goes back, so
    If-Modified-Since stays truthful."""
    ended = session.execute(
        select(func.max(Alert.cancelled_at),
               func.max(case((Alert.expires_at <= now, Alert.expires_at))))
        .where(Alert.status == "Actual", Alert.sent_at.is_not(None))).one()
    times = [t for t in (*ended, _zones_changed(session, items), *(a.sent_at for a in items),
                         *(extra or ())) if t is not None]
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

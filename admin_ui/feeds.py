"""Public feeds: `/feeds/alerts.atom`, active public Actual alerts as CAP-in-Atom (no sign-in)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, abort
from lxml import etree
from sqlalchemy import func, or_, select

from admin_ui import db, get_settings
from notifier import cap
from notifier.alerts import SENDING, SENT, cap_sender
from notifier.models import Alert
from notifier.text_rules import xml_safe

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

ATOM = "http://www.w3.org/2005/Atom"
_A = f"{{{ATOM}}}"
FEED_SIZE = 50


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


@bp.get("/alerts.atom")
def alerts_atom():
    """Atom feed; each entry links its CAP document and carries it inline (CAP-in-Atom)."""
    settings, session = get_settings(), db()
    now = datetime.now(timezone.utc)
    items = active_alerts(session, now)
    zones = cap.zone_polygons_for(session, items)
    feed = etree.Element(_A + "feed", nsmap={None: ATOM})
    _add(feed, "id", f"{settings.public_url}/feeds/alerts.atom")
    _add(feed, "title", f"{settings.agency_name}: active alerts")
    _add(feed, "updated", _rfc3339(max((a.sent_at for a in items), default=now)))
    author = etree.SubElement(feed, _A + "author")
    _add(author, "name", settings.agency_name)
    _link(feed, "self", f"{settings.public_url}/feeds/alerts.atom", "application/atom+xml")
    for alert in items:
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
    return Response(body, mimetype="application/atom+xml")


@bp.get("/alerts/<identifier>.xml")
def alert_cap(identifier: str):
    """The CAP document of a public alert; 404 for drafts, Exercise and Test alike."""
    alert = db().scalar(select(Alert).where(Alert.identifier == identifier))
    if alert is None or not cap.is_public(alert):
        abort(404)
    return Response(cap.cap_document(db(), alert, get_settings()), mimetype=cap.MEDIA_TYPE)


def _add(parent, name: str, text: str) -> None:
    etree.SubElement(parent, _A + name).text = xml_safe(text)


def _link(parent, rel: str, href: str, media_type: str) -> None:
    etree.SubElement(parent, _A + "link", rel=rel, href=xml_safe(href), type=media_type)

"""CAP 1.2: an alert as a CAP document (one <info> per language), and CAP documents read back."""
from __future__ import annotations

from datetime import datetime, timezone

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier import alert_texts, cap_area, geo
from notifier.alerts import cap_sender, cap_time
from notifier.errors import InvalidInput
from notifier.i18n import N_, gettext
from notifier.models import Alert, Zone
from notifier.text_rules import xml_safe

NS = "urn:oasis:names:tc:emergency:cap:1.2"
MEDIA_TYPE = "application/cap+xml"
EVERYONE = "The whole service area"
_C = f"{{{NS}}}"
# Never fetch or expand anything a CAP document points at: peers' documents are untrusted.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True,
                          huge_tree=False, load_dtd=False)


def when(value: datetime) -> str:
    """A CAP time; UTC is written `-00:00` as CAP 1.2 §3.3.2 requires (never `Z` or `+00:00`)."""
    text = cap_time(value)
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def is_public(alert: Alert) -> bool:
    """True for a real alert that went out: only those are shown to the public (feed, CAP URL)."""
    return alert.status == "Actual" and alert.sent_at is not None and alert.state != "draft"


def zone_polygons_for(session: Session, alerts) -> dict:
    """{zone code: GeoJSON geometry} for the zones the alerts name that have a geometry."""
    codes = {code for a in alerts for code in ((a.area or {}).get("zones") or [])}
    if not codes:
        return {}
    rows = session.execute(select(Zone.code, Zone.geometry).where(Zone.code.in_(codes)))
    return {code: geometry for code, geometry in rows if geometry}


def cap_document(session: Session, alert: Alert, settings) -> bytes:
    """`alert_to_cap` with the named zones' polygons read from the zones table."""
    return alert_to_cap(alert, settings, zone_polygons_for(session, [alert]))


def alert_to_cap(alert: Alert, settings, zone_polygons: dict | None = None) -> bytes:
    """The alert as a CAP 1.2 document (UTF-8 bytes), elements in the schema's order.

    `zone_polygons` maps a named zone's code to its GeoJSON geometry; those zones' outer
    rings are added as <polygon>s next to their <geocode>.
    """
    root = etree.Element(_C + "alert", nsmap={None: NS})
    _add(root, "identifier", alert.identifier)
    _add(root, "sender", cap_sender(settings))
    _add(root, "sent", when(alert.sent_at or alert.created_at or datetime.now(timezone.utc)))
    _add(root, "status", alert.status)
    _add(root, "msgType", alert.msg_type)
    _add(root, "scope", "Public")
    if alert.references:
        _add(root, "references", alert.references)
    area = _area_of(alert)
    for language, text in (alert.messages or {}).items():
        info = etree.SubElement(root, _C + "info")
        _add(info, "language", language)
        _add(info, "category", alert.category or "Safety")
        _add(info, "event", alert.event or alert.headline)
        _add(info, "urgency", alert.urgency)
        _add(info, "severity", alert.severity)
        _add(info, "certainty", alert.certainty)
        if alert.expires_at is not None:
            _add(info, "expires", when(alert.expires_at))
        _add(info, "senderName", getattr(settings, "agency_name", None))
        _add(info, "headline", alert_texts.headline(alert, language).text)
        _add(info, "description", text)
        instruction = alert_texts.instruction(alert, language)
        _add(info, "instruction", instruction.text if instruction else None)
        _add(info, "contact", getattr(settings, "agency_contact", None))
        _add_area(info, area, zone_polygons or {})
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


CANCEL_SUFFIX = "-cancel"
# Translators: the public CAP notice that replaces a cancelled alert in the feeds.
CANCELLED_TEXT = N_("This alert has been cancelled. The danger it described is no longer current.")
CANCELLED_HEADLINE = N_("Cancelled: %(headline)s")


def cancel_notice(alert: Alert, settings) -> Alert:
    """The CAP `Cancel` message that stands for a public alert cancelled without a follow-up:
    partners and aggregators that showed the alert are told it is over (CAP 1.2 §3.2.1, a
    Cancel references the message it cancels), instead of finding it silently gone."""
    languages = list(alert.messages or {}) or [settings.default_language]
    return Alert(
        identifier=alert.identifier + CANCEL_SUFFIX, status=alert.status, msg_type="Cancel",
        sent_at=alert.cancelled_at, created_at=alert.cancelled_at,
        references=f"{cap_sender(settings)},{alert.identifier},{cap_time(alert.sent_at)}",
        category=alert.category, event=alert.event, urgency="Past", severity="Minor",
        certainty="Observed", expires_at=alert.expires_at, area=alert.area,
        headline=gettext(languages[0], CANCELLED_HEADLINE) % {"headline": alert.headline},
        headlines={lang: gettext(lang, CANCELLED_HEADLINE)
                   % {"headline": alert_texts.headline(alert, lang).text} for lang in languages},
        messages={lang: gettext(lang, CANCELLED_TEXT) for lang in languages})


def _area_of(alert: Alert) -> geo.Area:
    try:
        return geo.parse_area(alert.area or {})
    except InvalidInput:
        # A stored area was validated when it was written; an odd old row still gets a document.
        zones = tuple(z for z in (alert.area or {}).get("zones") or [] if isinstance(z, str))
        return geo.Area(description=(alert.area or {}).get("description"), zones=zones)


def _add_area(info, area: geo.Area, zone_polygons: dict) -> None:
    element = etree.SubElement(info, _C + "area")
    _add(element, "areaDesc", area.description or _default_description(area))
    polygons = cap_area.to_cap_polygons(area)
    for code in area.zones:
        if zone_polygons.get(code):
            try:
                shape = geo.parse_geometry(zone_polygons[code], "zone")
            except InvalidInput:
                continue
            polygons.extend(cap_area.to_cap_polygons(geo.Area(geometry=shape)))
    for polygon in polygons:
        _add(element, "polygon", polygon)
    for circle in cap_area.to_cap_circles(area):
        _add(element, "circle", circle)
    for code in area.zones:
        geocode = etree.SubElement(element, _C + "geocode")
        _add(geocode, "valueName", "ZONE")
        _add(geocode, "value", code)


def _default_description(area: geo.Area) -> str:
    if area.everyone:
        return EVERYONE
    if area.zones:
        return ", ".join(area.zones)
    return "The area drawn on the map"


def _add(parent, name: str, value) -> None:
    if value is None or value == "":
        return
    # Input refuses what XML cannot carry; a row stored before that must not take down
    # every feed and document that includes it.
    etree.SubElement(parent, _C + name).text = xml_safe(str(value))


def parse_cap(xml: bytes) -> dict:
    """Read a CAP 1.2 document: the alert block, and each <info> with its texts and areas.

    Raises InvalidInput({"cap": [...]}) when it is not XML or not a CAP 1.2 <alert>.
    """
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidInput({"cap": [f"not well-formed XML: {exc}"]}) from None
    if root.tag != _C + "alert":
        raise InvalidInput({"cap": [f"the root element is {root.tag}, not a CAP 1.2 <alert>"]})
    return cap_dict(root)


def cap_dict(root) -> dict:
    """The alert block and each <info> (texts, categories, areas) of a CAP 1.2 <alert> element."""
    doc = {name: _text(root, name) for name in
           ("identifier", "sender", "sent", "status", "msgType", "source", "scope", "note",
            "references", "incidents")}
    doc["infos"] = [_info(info) for info in root.findall(_C + "info")]
    return doc


def _info(info) -> dict:
    out = {name: _text(info, name) for name in
           ("event", "urgency", "severity", "certainty", "effective", "onset", "expires",
            "senderName", "headline", "description", "instruction", "web", "contact")}
    out["language"] = _text(info, "language") or "en-US"  # CAP's stated default
    out["categories"] = [c.text for c in info.findall(_C + "category")]
    out["areas"] = [{
        "areaDesc": _text(area, "areaDesc"),
        "polygons": [p.text.strip() for p in area.findall(_C + "polygon") if p.text],
        "circles": [c.text.strip() for c in area.findall(_C + "circle") if c.text],
        "geocodes": [(_text(g, "valueName"), _text(g, "value"))
                     for g in area.findall(_C + "geocode")],
    } for area in info.findall(_C + "area")]
    return out


def _text(element, name: str) -> str | None:
    child = element.find(_C + name)
    if child is None or child.text is None:
        return None
    return child.text.strip()

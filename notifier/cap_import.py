"""A peer's CAP 1.2 alert as a Tocsin draft: one message per language, its areas, zones it names.

The draft is only a draft: it is stored through `alerts.create_alert` (audited like any
other) and sent only by a person, when `alerts.start_sending` checks it as it checks every
draft. So import takes what valid CAP says (a 0-radius circle, an expired alert, a status Tocsin
does not send) and says in `warnings` what a dispatcher must change before sending.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier import alerts, audit, cap_area, cap_read, channel_specs, sms_limits
from notifier.channel_state import state_of
from notifier.errors import InvalidInput
from notifier.models import Alert, CapImport, Zone
from notifier.subscriber_schema import language_tag
from notifier.text_rules import cleaned

MAX_LINE = 200  # the headline and event columns
DEFAULT_CHANNELS = ("sms", "email")


@dataclass
class Imported:
    """What an import made: the draft, what to check before sending, and an earlier import."""
    alert: object
    warnings: list[str] = field(default_factory=list)
    already: int | None = None  # the draft an earlier import of the same alert made


def seen(session: Session, sender: str, identifier: str) -> CapImport | None:
    """The earlier import of the CAP alert (sender, identifier), or None."""
    # Stored cut to the columns' 255 characters: compared cut the same way.
    return session.scalars(select(CapImport).where(CapImport.sender == sender[:255],
                                                   CapImport.identifier == identifier[:255])).first()


def drafts_waiting(session: Session, since: datetime, limit: int = 20) -> list[dict]:
    """Drafts made from CAP alerts since `since` that are still drafts (nobody sent or threw
    them away), newest first: [{"alert", "sender", "source", "imported_at"}]."""
    rows = session.execute(
        select(Alert, CapImport).join(CapImport, CapImport.alert_id == Alert.id)
        .where(Alert.state == alerts.DRAFT, CapImport.imported_at >= since)
        .order_by(Alert.id.desc()).limit(limit)).all()
    return [{"alert": alert, "sender": row.sender, "source": row.source,
             "imported_at": row.imported_at} for alert, row in rows]


def import_cap(session: Session, xml: bytes, settings, actor: str, now: datetime,
               source: str = "api") -> Imported:
    """Store the CAP document `xml` as a draft; return `Imported`.

    Raises what `cap_read.read_cap` raises (hostile, too large, not CAP 1.2), and
    InvalidInput for coordinates that are not numbers. Nothing is sent.
    """
    doc = cap_read.read_cap(xml)
    data, warnings = draft_data(doc, set(session.scalars(select(Zone.code))), settings, now)
    earlier = seen(session, doc["sender"], doc["identifier"])
    alert = alerts.create_alert(session, data, actor, now)
    if earlier is None:
        session.add(CapImport(sender=doc["sender"][:255], identifier=doc["identifier"][:255],
                              sent=(doc["sent"] or "")[:40] or None, alert_id=alert.id,
                              source=source[:2000], imported_by=actor, imported_at=now))
        session.flush()
    else:
        warnings.insert(0, f"This CAP alert was imported before, as alert {earlier.alert_id}.")
    audit.record(session, actor, "alert.import_cap", f"alert:{alert.id}",
                 {"source": source, "sender": doc["sender"], "cap_identifier": doc["identifier"],
                  "sent": doc["sent"], "msg_type": doc["msgType"], "warnings": warnings}, now)
    return Imported(alert, warnings, earlier.alert_id if earlier else None)


def draft_data(doc: dict, zones: set[str], settings, now: datetime) -> tuple[dict, list[str]]:
    """(the alert body `alerts.create_alert` stores, warnings) from `cap.cap_dict` output."""
    warnings: list[str] = []
    infos = doc["infos"]
    first = infos[0] if infos else {}
    messages, texts = {}, {}
    for info in infos:
        language = _language(info["language"], settings, warnings)
        text = cleaned(info["description"] or info["headline"] or info["event"] or "", True)
        if text and text not in texts.setdefault(language, []):
            texts[language].append(text)
    for language, parts in texts.items():
        messages[language] = "\n\n".join(parts)
    headline = first.get("headline") or first.get("event")
    if not infos:
        headline = f"{doc['msgType']} of {_referenced(doc)}"
    data = {
        "headline": _line(headline, "headline", warnings),
        "event": _line(first.get("event") or headline, "event", warnings),
        "messages": messages,
        "category": (first.get("categories") or ["Other"])[0],
        "severity": first.get("severity") or "Unknown",
        "urgency": first.get("urgency") or "Unknown",
        "certainty": first.get("certainty") or "Unknown",
        "status": doc["status"],
        "msg_type": doc["msgType"],
        "references": doc.get("references"),
        "area": _area(infos, zones, warnings),
        "channels": _channels(settings),
        "expires_at": _expires(first.get("expires"), now, warnings),
        "confirm": False,
        "instruction": cleaned(first["instruction"], True) if first.get("instruction") else None,
    }
    _notes(doc, data, warnings)
    warnings.extend(sms_limits.too_long(data, settings))
    return data, warnings


def _notes(doc: dict, data: dict, warnings: list[str]) -> None:
    if data["status"] not in ("Actual", "Exercise", "Test"):
        warnings.append(f"Its status is {data['status']}: Tocsin sends only Actual, Exercise "
                        "or Test alerts; change it before sending.")
    if data["msg_type"] not in ("Alert", "Update", "Cancel"):
        warnings.append(f"Its msgType is {data['msg_type']}: Tocsin sends Alert, Update or "
                        "Cancel; change it before sending.")
    if doc.get("scope") != "Public":
        warnings.append(f"Its sender marked it {doc.get('scope')}, not Public.")
    if not data["messages"]:
        warnings.append("It has no <info>: write a message before sending.")


def _referenced(doc: dict) -> str:
    parts = (doc.get("references") or "").split()
    return ", ".join(p.split(",")[1] if p.count(",") == 2 else p for p in parts)[:150] \
        or doc["identifier"]


def _language(raw: str, settings, warnings: list[str]) -> str:
    try:
        return language_tag(raw)
    except ValueError:
        fallback = settings.default_language
        warnings.append(f"Language {raw!r} is not one Tocsin knows; its text is filed under "
                        f"{fallback}.")
        return fallback


def _line(text: str | None, name: str, warnings: list[str]) -> str:
    text = cleaned(text or "") or "CAP alert"
    if len(text) <= MAX_LINE:
        return text
    cut = text[:MAX_LINE - 1].rsplit(" ", 1)[0] + "…"
    warnings.append(f"The {name} was {len(text)} characters; it was cut to {len(cut)}.")
    return cut


def _channels(settings) -> list[str]:
    """SMS and email where they can send: the dispatcher chooses the rest before sending."""
    chosen = [c for c in DEFAULT_CHANNELS if c in channel_specs.NAMES
              and state_of(c, settings).sendable]
    return chosen or [DEFAULT_CHANNELS[0]]


def _expires(raw: str | None, now: datetime, warnings: list[str]) -> datetime | None:
    if not raw:
        return None
    value = datetime.fromisoformat(raw)
    if value <= now:
        warnings.append(f"It expired at {raw}: set a later expiry before sending.")
    return value


def _area(infos: list[dict], zones: set[str], warnings: list[str]) -> dict:
    """One area for every <info>'s <area>s (CAP areas are a union): polygons, circles, zones
    named by <geocode> values; geocodes that name no zone are reported, not dropped silently."""
    descriptions, rings, circles, named, unknown = [], [], [], [], []
    by_lower = {code.lower(): code for code in zones}
    for i, info in enumerate(infos):
        for j, area in enumerate(info["areas"]):
            where = f"info[{i}].area[{j}]"
            description = cleaned(area["areaDesc"] or "", True)
            if description and description not in descriptions:
                descriptions.append(description)
            for k, polygon in enumerate(area["polygons"]):
                ring = _ring(polygon, f"{where}.polygon[{k}]")
                if ring not in rings:
                    rings.append(ring)
                    _check_shape(cap_area.from_cap_polygon, polygon, "polygon", warnings)
            for k, circle in enumerate(area["circles"]):
                found = _circle(circle, f"{where}.circle[{k}]")
                if found not in circles:
                    circles.append(found)
                    if found["radius_m"] == 0:
                        warnings.append(f"Circle {circle!r} has radius 0 (a point): give it a "
                                        "radius before sending.")
                    else:
                        _check_shape(cap_area.from_cap_circle, circle, "circle", warnings)
            for name, value in area["geocodes"]:
                code = value if value in zones else by_lower.get((value or "").lower())
                if code:
                    if code not in named:
                        named.append(code)
                elif (name, value) not in unknown:
                    unknown.append((name, value))
    out: dict = {"description": "; ".join(descriptions)[:2000] or None}
    if rings:
        out["geojson"] = ({"type": "Polygon", "coordinates": [rings[0]]} if len(rings) == 1 else
                          {"type": "MultiPolygon", "coordinates": [[r] for r in rings]})
    if circles:
        out["circles"] = circles
    if named:
        out["zones"] = named
    for name, value in unknown[:50]:
        warnings.append(f"Geocode {name}={value} names no zone here; it was not added to the area.")
    if len(unknown) > 50:
        warnings.append(f"…and {len(unknown) - 50} more geocodes that name no zone.")
    if not (rings or circles or named):
        warnings.append("It names no polygon, circle or zone Tocsin knows: draw the area or "
                        "choose zones before sending.")
    return out


def _check_shape(parse, value: str, kind: str, warnings: list[str]) -> None:
    """Note (not refuse) a shape that sending will refuse as it stands."""
    try:
        parse(value)
    except InvalidInput as exc:
        messages = [m for ms in exc.errors.values() for m in ms]
        warnings.append(f"The {kind} {value[:60]!r}… will not send as it is: "
                        f"{'; '.join(messages[:3])}.")


def _ring(polygon: str, where: str) -> list[list[float]]:
    ring = [list(reversed(cap_area.cap_pair(pair, where, "pair"))) for pair in polygon.split()]
    if not ring:
        raise InvalidInput({where: ["is empty: expected \"lat,lon lat,lon …\""]})
    return ring


def _circle(circle: str, where: str) -> dict:
    parts = circle.split()
    if len(parts) != 2:
        raise InvalidInput({where: [f"expected \"lat,lon radius_km\", got {circle!r}"]})
    lat, lon = cap_area.cap_pair(parts[0], where, "centre")
    try:
        radius_km = float(parts[1])
    except ValueError:
        radius_km = math.nan
    if not math.isfinite(radius_km) or radius_km < 0:
        raise InvalidInput({where: [f"radius {parts[1]!r} is not a number of km"]})
    return {"lat": lat, "lon": lon, "radius_m": radius_km * 1000}

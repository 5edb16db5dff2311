"""The alert state machine: draft → sending → sent, and → cancelled; every change is audited."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from notifier import audit, deliveries, hints
from notifier.errors import Conflict, InvalidInput, NotFound
from notifier.models import Alert, Zone

DRAFT, SENDING, SENT, CANCELLED = "draft", "sending", "sent", "cancelled"
STATES = (DRAFT, SENDING, SENT, CANCELLED)
# CAP 1.2: identifiers contain no spaces, commas or restricted characters (< and &).
IDENTIFIER = re.compile(r"^[A-Za-z0-9._:\-]{1,100}$")
_FIELDS = ("headline", "event", "messages", "category", "severity", "urgency", "certainty",
           "status", "msg_type", "references", "area", "channels", "expires_at", "confirm",
           "instruction")
_FOLLOW_UP_PREFIX = {"Cancel": "All clear: ", "Update": "Update: "}


def cap_sender(settings=None) -> str:
    """The CAP `sender` of this installation: the host of PUBLIC_URL (cap.py must use the same)."""
    host = urlsplit(getattr(settings, "public_url", "") or "").hostname
    return host or "tocsin"


def cap_time(value: datetime) -> str:
    """A time in CAP's format: seconds and a numeric offset, never `Z` (`…T06:00:00+00:00`)."""
    return value.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def new_identifier(now: datetime) -> str:
    """A fresh CAP identifier: readable, sortable by time, unique by a random suffix."""
    return f"tocsin-{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def transient_alert(data: dict) -> Alert:
    """An unsaved Alert built from `load_alert` data, for previews; never add it to a session."""
    values = {field: data.get(field) for field in _FIELDS}
    values["event"] = values["event"] or values["headline"]
    values["category"] = values["category"] or "Safety"
    values["msg_type"] = values["msg_type"] or "Alert"
    values["confirm"] = bool(values["confirm"])
    return Alert(identifier="preview", state=DRAFT, **values)


def create_alert(session: Session, data: dict, actor: str, now: datetime) -> Alert:
    """Store a draft from `schemas.load_alert` data and return it."""
    alert = transient_alert(data)
    alert.identifier = new_identifier(now)
    alert.created_by, alert.created_at = actor, now
    alert.references_alert_id = data.get("references_alert_id")
    session.add(alert)
    session.flush()
    audit.record(session, actor, "alert.create", f"alert:{alert.id}",
                 {"identifier": alert.identifier, "status": alert.status,
                  "msg_type": alert.msg_type, "headline": alert.headline,
                  "channels": alert.channels}, now)
    return alert


def get_alert(session: Session, alert_id: int) -> Alert:
    """Return the alert or raise NotFound."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    return alert


def start_sending(session: Session, alert_id: int, actor: str, now: datetime) -> Alert:
    """Move a draft to `sending` (the caller then enqueues its fan-out) and return it.

    The UPDATE is guarded by state='draft', so of two concurrent sends exactly one wins;
    the other raises Conflict("alert already sent"). An expired draft raises Conflict too.
    """
    alert = get_alert(session, alert_id)
    if alert.state == DRAFT and alert.expires_at is not None and alert.expires_at <= now:
        raise Conflict("alert has expired; make a new one")
    result = session.execute(update(Alert).where(Alert.id == alert_id, Alert.state == DRAFT)
                             .values(state=SENDING, sent_at=now),
                             execution_options={"synchronize_session": False})
    if result.rowcount != 1:
        session.refresh(alert)
        raise Conflict("alert was cancelled" if alert.state == CANCELLED else "alert already sent")
    session.refresh(alert)
    audit.record(session, actor, "alert.send", f"alert:{alert_id}",
                 {"identifier": alert.identifier, "status": alert.status}, now)
    return alert


def mark_fanned_out(session: Session, alert_id: int, now: datetime) -> bool:
    """`sending` → `sent` once every delivery row exists; True when this call moved it."""
    result = session.execute(update(Alert).where(Alert.id == alert_id, Alert.state == SENDING)
                             .values(state=SENT, fanned_out_at=now),
                             execution_options={"synchronize_session": False})
    if result.rowcount != 1:
        return False
    audit.record(session, "system", "alert.fanned_out", f"alert:{alert_id}", {}, now)
    return True


def cancel_alert(session: Session, alert_id: int, actor: str, now: datetime,
                 message: dict | None = None, msg_type: str = "Cancel",
                 settings=None) -> tuple[Alert, Alert | None]:
    """Cancel an alert: undelivered work stops. Returns (alert, follow-up or None).

    `message` — {language: text}, or a full alert body — becomes a follow-up alert with
    msg_type Cancel (or Update), the original's area/channels/status and CAP `references`,
    already `sending`: the caller only enqueues its fan-out. Raises NotFound, Conflict
    (already cancelled), InvalidInput (a bad follow-up; then nothing changes).
    """
    alert = get_alert(session, alert_id)
    if alert.state == CANCELLED:
        raise Conflict("alert already cancelled")
    follow_up = None
    if message is not None:
        if alert.state == DRAFT:
            raise InvalidInput({"message": ["The alert was never sent; there is nothing to correct."]})
        follow_up = _follow_up_data(session, alert, message, msg_type, now, settings)
    result = session.execute(update(Alert).where(Alert.id == alert_id, Alert.state != CANCELLED)
                             .values(state=CANCELLED, cancelled_at=now),
                             execution_options={"synchronize_session": False})
    if result.rowcount != 1:
        raise Conflict("alert already cancelled")
    session.refresh(alert)
    stopped = deliveries.cancel_alert(session, alert_id, now)
    # Workers sending claimed messages of this alert stop before their next one.
    hints.note_cancel(session, alert_id)
    audit.record(session, actor, "alert.cancel", f"alert:{alert_id}",
                 {"identifier": alert.identifier, "deliveries_stopped": stopped}, now)
    new = None
    if follow_up is not None:
        new = create_alert(session, follow_up, actor, now)
        new.state, new.sent_at = SENDING, now
        session.flush()
        audit.record(session, actor, "alert.send", f"alert:{new.id}",
                     {"identifier": new.identifier, "status": new.status,
                      "msg_type": new.msg_type, "references": new.references}, now)
    return alert, new


def _follow_up_data(session: Session, alert: Alert, message: dict, msg_type: str,
                    now: datetime, settings) -> dict:
    from notifier.schemas import load_alert

    if not isinstance(message, dict) or not message:
        raise InvalidInput({"message": ["Must be {language: text} or an alert body."]})
    full = any(key in message for key in _FIELDS)
    msg_type = message.get("msg_type", msg_type) if full else msg_type
    if msg_type not in _FOLLOW_UP_PREFIX:
        raise InvalidInput({"msg_type": ["Must be Cancel or Update."]})
    if full and message.get("status", alert.status) != alert.status:
        raise InvalidInput({"status": [f"A follow-up keeps the original's status ({alert.status})."]})
    expires = alert.expires_at if alert.expires_at and alert.expires_at > now + timedelta(minutes=1) else None
    body = {
        "headline": (_FOLLOW_UP_PREFIX[msg_type] + alert.headline)[:200], "event": alert.event,
        "category": alert.category, "severity": alert.severity, "urgency": alert.urgency,
        "certainty": alert.certainty, "area": alert.area, "channels": alert.channels,
        "expires_at": expires.isoformat() if expires else None, "confirm": False,
    }
    body.update(message if full else {"messages": message})
    body.update(status=alert.status, msg_type=msg_type,
                references=f"{cap_sender(settings)},{alert.identifier},{cap_time(alert.sent_at or now)}")
    area_changed = body["area"] != alert.area
    known = set(session.scalars(select(Zone.code))) if area_changed else None
    data = load_alert(body, settings, known, now)
    data["references_alert_id"] = alert.id
    return data


def list_alerts(session: Session, page: int = 1, per_page: int = 50,
                state: str | None = None) -> tuple[list[Alert], int]:
    """Return (alerts newest first, total), optionally of one state."""
    query = select(Alert)
    if state:
        if state not in STATES:
            raise InvalidInput({"state": [f"Must be one of: {', '.join(STATES)}."]})
        query = query.where(Alert.state == state)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page, per_page = max(1, page), max(1, min(per_page, 500))
    items = session.scalars(query.order_by(Alert.id.desc())
                            .offset((page - 1) * per_page).limit(per_page)).all()
    return list(items), total


def alert_dict(session: Session, alert: Alert, stats: bool = True) -> dict:
    """The API shape of an alert: every field, ISO 8601 times, and `stats` when asked."""
    out = {"id": alert.id, "identifier": alert.identifier, "state": alert.state}
    for field in _FIELDS:
        value = getattr(alert, field)
        out[field] = _iso(value) if isinstance(value, datetime) else value
    out.update(references_alert_id=alert.references_alert_id, created_by=alert.created_by,
               created_at=_iso(alert.created_at), sent_at=_iso(alert.sent_at),
               fanned_out_at=_iso(alert.fanned_out_at), cancelled_at=_iso(alert.cancelled_at))
    if stats and alert.id is not None:
        out["stats"] = deliveries.stats(session, alert.id)
    return out

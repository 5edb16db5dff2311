"""The alert state machine: draft → sending → sent, and → cancelled; every change is audited."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from notifier import (approval, audit, deliveries, delivery_stats, hints, machine_translation,
                      public_ids, sendable, severity_routing, topics)
from notifier.errors import Conflict, Forbidden, InvalidInput, NotFound
from notifier.models import ALERT_CONTENT, Alert, Zone

DRAFT, SENDING, SENT, CANCELLED = "draft", "sending", "sent", "cancelled"
STATES = (DRAFT, SENDING, SENT, CANCELLED)
# CAP 1.2: identifiers contain no spaces, commas or restricted characters (< and &).
IDENTIFIER = re.compile(r"^[A-Za-z0-9._:\-]{1,100}$")


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


def _plain(alert: Alert) -> dict:
    """Texts rewritten with plain punctuation, for the audit: never a silent change."""
    return {"plain_punctuation": alert.plain_punctuation} if alert.plain_punctuation else {}


def transient_alert(data: dict) -> Alert:
    """An unsaved Alert built from `load_alert` data, for previews; never add it to a session."""
    values = {field: data.get(field) for field in ALERT_CONTENT}
    values["event"] = values["event"] or values["headline"]
    values["category"] = values["category"] or "Safety"
    values["msg_type"] = values["msg_type"] or "Alert"
    values["confirm"] = bool(values["confirm"])
    values["machine_translated"] = values["machine_translated"] or None
    return Alert(identifier="preview", state=DRAFT, **values)


def create_alert(session: Session, data: dict, actor: str, now: datetime) -> Alert:
    """Store a draft from `schemas.load_alert` data and return it; its `plain_punctuation`
    (not a column) is {tag: substitutions} of the texts `gsm_safe` rewrote, also audited."""
    alert = transient_alert(data)
    alert.plain_punctuation = data.get("plain_punctuation") or {}
    alert.identifier = new_identifier(now)
    alert.public_id = public_ids.new_public_id()
    alert.created_by, alert.created_at = actor, now
    alert.references_alert_id = data.get("references_alert_id")
    session.add(alert)
    session.flush()
    audit.record(session, actor, "alert.create", f"alert:{alert.id}",
                 {"identifier": alert.identifier, "status": alert.status,
                  "msg_type": alert.msg_type, "headline": alert.headline,
                  "channels": alert.channels, **machine_translation.audit_details(alert),
                  **_plain(alert)}, now)
    _audit_override(session, actor, alert.id, data.get("channels_override"), now)
    return alert


def _audit_override(session: Session, actor: str, alert_id: int, override: dict | None,
                    now: datetime) -> None:
    """Channels other than the severity's, with the dispatcher's reason (DESIGN §12)."""
    if override:
        audit.record(session, actor, severity_routing.AUDIT_ACTION, f"alert:{alert_id}",
                     override, now)


def get_alert(session: Session, alert_id: int) -> Alert:
    """Return the alert or raise NotFound."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    return alert


def _locked(session: Session, alert_id: int) -> Alert:
    """The alert, its row locked until the transaction ends (PostgreSQL: a concurrent edit,
    approval or send waits; SQLite lets one writer at a time anyway). Raises NotFound."""
    alert = session.scalars(select(Alert).where(Alert.id == alert_id).with_for_update()
                            .execution_options(populate_existing=True)).first()
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    return alert


def start_sending(session: Session, alert_id: int, actor: str, now: datetime,
                  settings, accept_machine_translation: bool = False) -> Alert:
    """Move a draft to `sending` (the caller then enqueues its fan-out) and return it.

    An Actual alert with machine-translated messages needs `accept_machine_translation`, else
    MachineTranslationNotAccepted; one the two-person rule holds (approval needed, none valid)
    raises ApprovalRequired (carrying `approval`). Both are Conflicts; nothing changes.
    A draft that could not go out as stored raises InvalidInput (`sendable.check`).
    The UPDATE is guarded by state='draft', so of two concurrent sends exactly one wins;
    the other raises Conflict("alert already sent"). An expired draft raises Conflict too.
    """
    alert = _locked(session, alert_id)
    if alert.state == DRAFT:
        if alert.expires_at is not None and alert.expires_at <= now:
            raise Conflict("alert has expired; make a new one")
        sendable.check(session, alert, settings)
        machine_translation.require_acceptance(alert, accept_machine_translation)
        approval.require(session, alert, settings)
    result = session.execute(update(Alert).where(Alert.id == alert_id, Alert.state == DRAFT)
                             .values(state=SENDING, sent_at=now),
                             execution_options={"synchronize_session": False})
    if result.rowcount != 1:
        session.refresh(alert)
        raise Conflict("alert was cancelled" if alert.state == CANCELLED else "alert already sent")
    session.refresh(alert)
    audit.record(session, actor, "alert.send", f"alert:{alert_id}",
                 {"identifier": alert.identifier, "status": alert.status,
                  **machine_translation.audit_details(alert, accept_machine_translation)}, now)
    return alert


def approve(session: Session, alert_id: int, actor: str, role: str, now: datetime) -> Alert:
    """Record `actor`'s approval of the draft's current content (the two-person rule).

    Raises NotFound; Conflict when it is not a draft; Forbidden when `role` may not approve
    or `actor` wrote the alert. An edit afterwards voids the approval (`approval.valid_approval`).
    """
    alert = _locked(session, alert_id)
    if role not in approval.APPROVER_ROLES:
        raise Forbidden("only a dispatcher or an admin may approve an alert")
    if alert.state != DRAFT:
        raise Conflict("only a draft can be approved")
    if alert.created_by == actor:
        raise Forbidden("the author may not approve their own alert; a second person must")
    alert.approved_by, alert.approved_at = actor, now
    alert.approval_digest = approval.content_digest(alert)
    session.flush()
    audit.record(session, actor, "alert.approve", f"alert:{alert_id}",
                 {"identifier": alert.identifier, "digest": alert.approval_digest}, now)
    return alert


def edit_draft(session: Session, alert_id: int, changes: dict, actor: str, now: datetime,
               settings) -> Alert:
    """Change a draft: `changes` (part of an alert body) over the stored body, validated whole
    as a new alert is. Any approval is cleared. Raises NotFound, Conflict (not a draft),
    InvalidInput (then nothing changes). `plain_punctuation` as on `create_alert`."""
    alert = _locked(session, alert_id)
    if alert.state != DRAFT:
        raise Conflict("only a draft can be edited; cancel it and send a follow-up instead")
    if not isinstance(changes, dict):
        raise InvalidInput({"_schema": ["the body must be a JSON object"]})
    fresh = checked_content(session, alert, changes, settings, now)
    changed = [field for field in ALERT_CONTENT
               if getattr(alert, field) != getattr(fresh, field)]
    for field in changed:
        setattr(alert, field, getattr(fresh, field))
    voided = alert.approved_by is not None
    alert.approved_by = alert.approved_at = alert.approval_digest = None
    alert.plain_punctuation = fresh.plain_punctuation
    session.flush()
    audit.record(session, actor, "alert.update", f"alert:{alert_id}",
                 {"identifier": alert.identifier, "fields": changed,
                  "approval_cleared": voided, **_plain(fresh)}, now)
    _audit_override(session, actor, alert_id, fresh.channels_override, now)
    return alert


def checked_content(session: Session, alert: Alert, changes: dict, settings,
                    now: datetime) -> Alert:
    """The draft's stored body with `changes` over it, validated whole as a new alert is
    (`schemas.load_alert`), as an unsaved Alert; raises InvalidInput naming every field.
    Changes naming a template replace the texts and CAP fields it gives (DESIGN §11)."""
    from notifier.schemas import load_alert

    body = {field: value for field, value in alert_dict(session, alert, stats=False).items()
            if field in ALERT_CONTENT}
    if "template" in changes:  # the template writes the texts and CAP fields afresh
        from notifier.alert_templates import FILLS

        body = {field: value for field, value in body.items() if field not in FILLS}
    if "channels" not in changes and set(alert.channels or []) == set(
            severity_routing.default_channels(alert.severity, settings) or []):
        # Channels the old severity implied follow a new severity, as on a new alert.
        body.pop("channels", None)
    body.update(changes)
    data = load_alert(body, settings, set(session.scalars(select(Zone.code))), now,
                      known_topics=topics.known_codes(session))
    fresh = transient_alert(data)
    fresh.plain_punctuation = data.get("plain_punctuation") or {}
    fresh.channels_override = data.get("channels_override")
    return fresh


def mark_fanned_out(session: Session, alert_id: int, now: datetime) -> bool:
    """`sending` → `sent` once every delivery row exists; True when this call moved it."""
    result = session.execute(update(Alert).where(Alert.id == alert_id, Alert.state == SENDING)
                             .values(state=SENT, fanned_out_at=now),
                             execution_options={"synchronize_session": False})
    if result.rowcount != 1:
        return False
    audit.record(session, "system", "alert.fanned_out", f"alert:{alert_id}", {}, now)
    return True


CANCEL_ACTIONS = {"cancel": "alert.cancel", "replace": "alert.replace", "discard": "alert.discard"}


def cancel_alert(session: Session, alert_id: int, actor: str, now: datetime,
                 message: dict | None = None, msg_type: str = "Cancel",
                 settings=None, accept_machine_translation: bool = False
                 ) -> tuple[Alert, Alert | None]:
    """Cancel an alert: undelivered work stops. Returns (alert, follow-up or None).

    `message` — {language: text}, or a full alert body — becomes a follow-up alert with
    msg_type Cancel (or Update), the original's area/channels/status and CAP `references`
    (it needs `settings`). It is `sending` (the caller only enqueues its fan-out), unless the
    two-person rule holds it: a follow-up reaching more residents than the original that needs
    approval stays a `draft`. A cancelled alert may still get a follow-up. Raises NotFound,
    Conflict (already cancelled, no message; MachineTranslationNotAccepted as `start_sending`),
    InvalidInput (a bad follow-up; nothing changes).
    """
    alert = _locked(session, alert_id)
    was_draft = alert.state == DRAFT
    follow_up = None
    if message is not None:
        if alert.state == DRAFT or (alert.state == CANCELLED and alert.sent_at is None):
            raise InvalidInput({"message": ["The alert was never sent; there is nothing to correct."]})
        if settings is None:
            raise ValueError("a follow-up needs the settings (the two-person rule)")
        from notifier.follow_ups import follow_up_data

        follow_up = follow_up_data(session, alert, message, msg_type, now, settings)
        machine_translation.require_acceptance(transient_alert(follow_up),
                                               accept_machine_translation)
    elif alert.state == CANCELLED:
        raise Conflict("alert already cancelled")
    # Guarded by state: of two concurrent cancels one records it (the other only follows up).
    result = session.execute(update(Alert).where(Alert.id == alert_id, Alert.state != CANCELLED)
                             .values(state=CANCELLED, cancelled_at=now),
                             execution_options={"synchronize_session": False})
    session.refresh(alert)
    if result.rowcount == 1:
        stopped = deliveries.cancel_alert(session, alert_id, now)
        # Workers sending claimed messages of this alert stop before their next one.
        hints.note_cancel(session, alert_id)
        details = {"identifier": alert.identifier, "deliveries_stopped": stopped}
    elif follow_up is None:
        raise Conflict("alert already cancelled")
    else:
        details = None  # already stopped: only the follow-up is new
    new = None
    if follow_up is not None:
        new = create_alert(session, follow_up, actor, now)
    if details is not None:
        # Three different acts an auditor must tell apart: a draft thrown away, a live alert
        # stopped by hand, and one stopped because its follow-up replaces it.
        action = CANCEL_ACTIONS["discard" if was_draft else "replace" if new else "cancel"]
        if new is not None:
            details.update(replaced_by=f"alert:{new.id}", msg_type=new.msg_type)
        audit.record(session, actor, action, f"alert:{alert_id}", details, now)
    if new is not None:
        if approval.assess(session, new, settings)["needed"]:
            return alert, new  # a draft until a second person approves it
        new.state, new.sent_at = SENDING, now
        session.flush()
        audit.record(session, actor, "alert.send", f"alert:{new.id}",
                     {"identifier": new.identifier, "status": new.status,
                      "msg_type": new.msg_type, "references": new.references,
                      **machine_translation.audit_details(new, accept_machine_translation)}, now)
    return alert, new


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


def alert_dict(session: Session, alert: Alert, stats: bool = True, settings=None,
               approval_in_full: bool = True) -> dict:
    """The API shape of an alert: every field, ISO 8601 times, `stats` when asked, and
    `approval`: in full (who approved, whether it is needed and why, who may approve, with the
    reach that costs) when `settings` are given, else only who approved. With `settings`,
    `public_url` is the public page's address (PUBLIC_URL + /a/<public id>) and
    `awaiting_approval` says whether it is a draft the two-person rule holds back
    (`approval.waiting`); `approval_in_full=False` keeps `approval` short even then (lists)."""
    out = {"id": alert.id, "identifier": alert.identifier, "state": alert.state}
    for field in ALERT_CONTENT:
        value = getattr(alert, field)
        out[field] = _iso(value) if isinstance(value, datetime) else value
    out["machine_translated"] = list(alert.machine_translated or [])
    out.update(references_alert_id=alert.references_alert_id, created_by=alert.created_by,
               created_at=_iso(alert.created_at), sent_at=_iso(alert.sent_at),
               fanned_out_at=_iso(alert.fanned_out_at), cancelled_at=_iso(alert.cancelled_at))
    approved_by, approved_at = approval.valid_approval(alert) or (None, None)
    out["approval"] = {"approved_by": approved_by, "approved_at": _iso(approved_at)}
    if settings is not None and alert.public_id:
        # Known from creation on; the page answers 404 until it is a sent Actual alert.
        out["public_url"] = public_ids.public_url(settings, alert.public_id)
    if settings is not None:
        out["awaiting_approval"] = approval.waiting(session, alert, settings)
    if settings is not None and approval_in_full:
        details = approval.assess(session, alert, settings)
        out["approval"] = {"needed": details.pop("needed"), **out["approval"], **details,
                           "approver_roles": list(approval.APPROVER_ROLES)}
    if stats and alert.id is not None:
        out["stats"] = delivery_stats.stats(session, alert.id)
    return out

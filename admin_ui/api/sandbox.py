"""Sandbox endpoints (DESIGN §8): the outbox of recorded messages, and simulated inbound texts."""
from __future__ import annotations

import uuid

from flask import abort, request
from sqlalchemy import func, select

from admin_ui import db, get_settings
from admin_ui.api import (READ_ALERTS, WRITE_PEOPLE, bp, choice_arg, json_body, now, page_args,
                          paged, requires)
from notifier.config import CHANNELS
from notifier.conversation import handle_inbound
from notifier.errors import InvalidInput
from notifier.models import SandboxMessage
from notifier.phones import to_e164


@bp.get("/sandbox/outbox")
@requires(*READ_ALERTS)
def sandbox_outbox():
    """Paged sandbox messages, newest first, filtered by `channel` and `to`; 404 off-sandbox."""
    settings = get_settings()
    if not settings.any_sandboxed:
        abort(404, "no channel is sandboxed")
    page, per_page = page_args()
    query = select(SandboxMessage)
    channel = choice_arg("channel", CHANNELS)
    if channel:
        query = query.where(SandboxMessage.channel == channel)
    to = _recipient(request.args.get("to", ""), settings.default_region)
    if to:
        query = query.where(SandboxMessage.to == to)
    session = db()
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(SandboxMessage.id.desc())
                           .offset((page - 1) * per_page).limit(per_page))
    return paged([_message_dict(m) for m in rows], page, per_page, total)


def _recipient(raw: str, region: str) -> str | None:
    """The address as stored: emails lower-cased, phones in E.164 (an unencoded + arrives as a space)."""
    raw = raw.strip()
    if not raw:
        return None
    if "@" in raw:
        return raw.lower()
    if request.args.get("to", "").startswith(" ") and raw[:1].isdigit():
        raw = "+" + raw
    try:
        return to_e164(raw, region)
    except ValueError:
        return raw


def _message_dict(m: SandboxMessage) -> dict:
    return {"id": m.id, "at": m.at.isoformat(), "channel": m.channel, "to": m.to,
            "subject": m.subject, "body": m.body, "delivery_id": m.delivery_id,
            "provider_id": m.provider_id}


@bp.post("/sandbox/inbound")
@requires(*WRITE_PEOPLE)
def sandbox_inbound():
    """Simulate a resident's text `{"from", "body"}` through the real keyword logic (DESIGN §8).

    Returns `{"reply": text or null}`; the reply also lands in the outbox as an SMS to them.
    404 unless SMS is sandboxed: with live Twilio, only signed webhooks may speak for a resident.
    """
    settings = get_settings()
    if not settings.is_sandboxed("sms"):
        abort(404, "SMS is not sandboxed")
    data = json_body(dict)
    errors = {}
    sender, body = data.get("from"), data.get("body")
    if not isinstance(body, str):
        errors["body"] = ["must be a string"]
    try:
        sender = to_e164(sender, settings.default_region) if isinstance(sender, str) else None
    except ValueError as exc:
        errors["from"] = [str(exc)]
    if sender is None and "from" not in errors:
        errors["from"] = ["must be a phone number"]
    if errors:
        raise InvalidInput(errors)
    session = db()
    reply = handle_inbound(session, settings, sender, settings.twilio_from_number, body,
                           "SB" + uuid.uuid4().hex, now())
    if reply is None:
        return {"reply": None}
    session.add(SandboxMessage(at=now(), channel="sms", to=sender, body=reply.text,
                               delivery_id=None, provider_id="SB" + uuid.uuid4().hex))
    return {"reply": reply.text}

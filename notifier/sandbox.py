"""The sandbox seen from outside: recorded messages, and simulated inbound texts (DESIGN §8)."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notifier.config import Settings
from notifier.conversation import handle_inbound
from notifier.errors import InvalidInput
from notifier.models import SandboxMessage
from notifier.phones import to_e164


def recipient(raw: str | None, region: str) -> str | None:
    """The address as stored: emails lower-cased, phones in E.164; unparseable text unchanged."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if "@" in raw:
        return raw.lower()
    try:
        return to_e164(raw, region)
    except ValueError:
        return raw


def messages(session: Session, channel: str | None = None, to: str | None = None,
             page: int = 1, per_page: int = 50) -> tuple[list[SandboxMessage], int]:
    """(one page of recorded messages, newest first, total) filtered by `channel` and `to`."""
    query = select(SandboxMessage)
    if channel:
        query = query.where(SandboxMessage.channel == channel)
    if to:
        query = query.where(SandboxMessage.to == to)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(SandboxMessage.id.desc())
                           .offset((max(page, 1) - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def simulate_inbound(session: Session, settings: Settings, sender, body,
                     now: datetime) -> str | None:
    """Run a resident's text through the real conversation, as if Twilio had posted it.

    Returns the reply text (also recorded in the outbox as an SMS to them) or None.
    Raises InvalidInput({"from": …, "body": …}) for a missing body or an unusable number.
    The caller checks that SMS is sandboxed: only then may anyone speak for a resident.
    """
    errors = {}
    if not isinstance(body, str):
        errors["body"] = ["must be a string"]
    phone = None
    if isinstance(sender, str) and sender.strip():
        try:
            phone = to_e164(sender, settings.default_region)
        except ValueError as exc:
            errors["from"] = [str(exc)]
    else:
        errors["from"] = ["must be a phone number"]
    if errors:
        raise InvalidInput(errors)
    reply = handle_inbound(session, settings, phone, settings.twilio_from_number, body,
                           "SB" + uuid.uuid4().hex, now)
    if reply is None:
        return None
    session.add(SandboxMessage(at=now, channel="sms", to=phone, body=reply.text,
                               delivery_id=None, provider_id="SB" + uuid.uuid4().hex))
    session.flush()
    return reply.text

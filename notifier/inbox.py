"""Answering a resident's text from the inbox, and marking a thread handled.

The rules hold wherever a reply comes from: never to a number that opted out (STOP is obeyed
at once, always, and checked again just before the SMS leaves), never longer than an SMS may
be, every reply and every "handled" in the audit log with the number masked.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from notifier import audit
from notifier.errors import InvalidInput, NotFound
from notifier.masking import mask_address
from notifier.models import InboundMessage, InboxReply
from notifier.render import sms_info
from notifier.sms_limits import MAX_CHARACTERS, MAX_SEGMENTS
from notifier.subscriptions import opted_out

QUEUED, SENT, FAILED, REFUSED = "queued", "sent", "failed", "refused"


def _message(session: Session, inbound_id: int) -> InboundMessage:
    message = session.get(InboundMessage, inbound_id)
    if message is None:
        raise NotFound(f"no inbox message {inbound_id}")
    return message


def is_opted_out(session: Session, number: str) -> bool:
    return bool(opted_out(session, [number], "sms"))


def queue_reply(session: Session, inbound_id: int, actor: str, body: str,
                now: datetime) -> InboxReply:
    """Store a reply to inbox message `inbound_id` as `queued` (the caller queues its job).
    Raises InvalidInput for an empty or too long text or a number that opted out."""
    message = _message(session, inbound_id)
    text = " ".join((body or "").split())
    if not text:
        raise InvalidInput({"body": ["Write the reply."]})
    info = sms_info(text)
    if len(text) > MAX_CHARACTERS or info["segments"] > MAX_SEGMENTS:
        raise InvalidInput({"body": [f"The reply makes an SMS of {len(text):,} characters "
                                     f"({info['segments']} segments); at most "
                                     f"{MAX_CHARACTERS:,} and {MAX_SEGMENTS} segments. Shorten it."]})
    if is_opted_out(session, message.from_number):
        raise InvalidInput({"body": ["This resident texted STOP: no SMS may be sent to them "
                                     "until they text START."]})
    reply = InboxReply(inbound_id=message.id, at=now, actor=actor, to_number=message.from_number,
                       body=text, status=QUEUED)
    session.add(reply)
    session.flush()
    audit.record(session, actor, "inbox.reply", f"inbox:{message.id}",
                 {"to": mask_address(message.from_number), "reply": reply.id,
                  "characters": len(text)}, now)
    return reply


def mark_handled(session: Session, inbound_id: int, actor: str, handled: bool,
                 now: datetime) -> InboundMessage:
    """Mark a thread handled (who, when) or open again; audited either way."""
    message = _message(session, inbound_id)
    message.handled_at, message.handled_by = (now, actor) if handled else (None, None)
    audit.record(session, actor, "inbox.handled" if handled else "inbox.reopened",
                 f"inbox:{message.id}", {"from": mask_address(message.from_number)}, now)
    return message


def record_outcome(session: Session, reply_id: int, status: str, now: datetime,
                   provider_id: str | None = None, error: str | None = None) -> None:
    reply = session.get(InboxReply, reply_id)
    if reply is not None and reply.status == QUEUED:
        reply.status, reply.provider_id, reply.error = status, provider_id, error

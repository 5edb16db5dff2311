"""One message to one resident outside any alert (a sign-up code, a confirmation or sign-in
link), through the channel alerts use: Twilio or SMTP, or the sandbox, whose outbox records it.

Sent while the visitor waits: one message, and the page must say whether it went.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime

from channels.base import OutboundMessage, Receipt
from channels.registry import channel_for
from notifier.masking import mask_address
from notifier.models import SandboxMessage

log = logging.getLogger("admin_ui.resident_send")


def send(session, settings, channel: str, to: str, body: str, now: datetime,
         language: str = "", subject: str | None = None) -> bool:
    """Send `body` to `to` on `channel` (sms or email); return False when it failed."""
    sender = channel_for(channel, settings)
    if sender is None:
        log.warning("no %s channel to send a resident message to %s", channel, mask_address(to))
        return False
    message = OutboundMessage(delivery_id=0, to=to, body=body, language=language,
                              subject=subject)
    # What the request wrote (the sign-up, the code's hash, the link) is committed first: a
    # transaction left open across the provider call would hold SQLite's write lock for up
    # to TWILIO_TIMEOUT, stalling status callbacks and residents' texts meanwhile.
    session.commit()
    outcome = sender.send_batch([message])[0]
    if not isinstance(outcome, Receipt):
        log.warning("resident message to %s failed: %s", mask_address(to), outcome)
        return False
    if getattr(outcome, "simulated", False):
        session.add(SandboxMessage(at=now, channel=channel, to=to, subject=subject, body=body,
                                   delivery_id=None,
                                   provider_id=outcome.provider_id or "SB" + uuid.uuid4().hex))
        session.flush()
    return True

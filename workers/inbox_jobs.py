"""The job that sends a dispatcher's inbox reply as an SMS, through the channel the alerts use
(Twilio, or the sandbox when SMS is sandboxed). The job carries the reply's id only."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from channels.base import ChannelError, OutboundMessage
from channels.registry import channel_for
from notifier import inbox
from notifier.config import Settings
from notifier.db import session_scope
from notifier.masking import mask_address
from notifier.models import InboxReply, SandboxMessage
from workers.queues import INBOX_REPLY, queue

log = logging.getLogger("workers.inbox")


def enqueue_reply(settings: Settings, reply_id: int):
    """Queue the reply on the SMS queue (the same workers, the same pace as alerts' SMS)."""
    return queue(settings, "sms").enqueue_call(INBOX_REPLY, args=(int(reply_id),),
                                               job_id=f"inbox-reply-{int(reply_id)}")


def send_inbox_reply(reply_id: int, settings: Settings | None = None) -> str:
    """Send one queued reply; return its final status (sent, failed or refused)."""
    settings = settings or Settings.from_env()
    now = datetime.now(timezone.utc)
    with session_scope(settings.database_url) as session:
        reply = session.get(InboxReply, reply_id)
        if reply is None or reply.status != inbox.QUEUED:
            return reply.status if reply else "missing"
        to, body = reply.to_number, reply.body
        if inbox.is_opted_out(session, to):  # a STOP between the click and now wins
            inbox.record_outcome(session, reply_id, inbox.REFUSED, now,
                                 error="the resident opted out before it was sent")
            log.info("inbox reply %s to %s refused: opted out", reply_id, mask_address(to))
            return inbox.REFUSED
    channel = channel_for("sms", settings)
    message = OutboundMessage(delivery_id=0, to=to, body=body, language="")
    outcome = channel.send_batch([message])[0]
    with session_scope(settings.database_url) as session:
        if isinstance(outcome, ChannelError):
            inbox.record_outcome(session, reply_id, inbox.FAILED, now, error=str(outcome))
            log.warning("inbox reply %s to %s failed: %s", reply_id, mask_address(to), outcome)
            return inbox.FAILED
        if outcome.simulated:
            session.add(SandboxMessage(at=now, channel="sms", to=to, body=body, delivery_id=None,
                                       provider_id=outcome.provider_id))
        inbox.record_outcome(session, reply_id, inbox.SENT, now, provider_id=outcome.provider_id)
    log.info("inbox reply %s to %s sent (%s)", reply_id, mask_address(to), outcome.provider_id)
    return inbox.SENT

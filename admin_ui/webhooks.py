"""Twilio's status callbacks: verified here, read by channels/twilio_status.py, queued in Redis
for the applier (workers/callback_apply.py), which applies them in batches by
notifier/provider_callbacks.py's rules and queues what they leave (a redial, a failover).

A callback that cannot be queued answers 503 so Twilio sends it again; a queued one is never
lost (workers/callback_queue.py). One that names no delivery of ours is applied as nothing.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask import Blueprint, Response, request
from redis.exceptions import RedisError

from admin_ui import get_settings
from admin_ui.twilio_signature import twilio_signed
from admin_ui.webhook_store import retry_later
from channels.twilio_status import report_of
from notifier import callback_batch
from workers import callback_queue

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def twiml(body: str = EMPTY_TWIML, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/xml")


@bp.post("/twilio/status")
@twilio_signed(get_settings)
def twilio_status():
    """Queue a message or call status callback; 503 when Redis cannot take it."""
    settings = get_settings()
    report = report_of(request.form)
    if report.account and report.account != settings.twilio_account_sid:
        # Signed with our token but about another account (a subaccount's number pointed here).
        log.warning("status callback for account %s ignored: not ours", report.account[:8])
        return twiml()
    if not report.provider_id:
        return twiml()  # names no message or call: nothing to apply, ever
    record = callback_batch.encode(request.args.get("d", ""), report, datetime.now(timezone.utc))
    try:
        callback_queue.push(callback_queue.connection(settings), record)
    except (RedisError, OSError) as exc:
        log.warning("status callback not queued, asking Twilio to retry: %s", exc)
        return retry_later()
    return twiml()

"""Twilio's status callbacks: verified here, read by channels/twilio_status.py, applied by
notifier/provider_callbacks.py; what that leaves to queue (a redial, a failover) is queued here
once committed.

A callback that cannot be stored answers 503 (admin_ui.webhook_store) so Twilio sends it again;
one that names no delivery of ours, or names one by `d` but carries another message's sid, gets
200 and moves nothing (Twilio would only send it again).
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask import Blueprint, Response, request
from redis.exceptions import RedisError

from admin_ui import db, get_settings
from admin_ui.twilio_signature import twilio_signed
from admin_ui.webhook_store import stored_or_retry_later
from channels.twilio_status import report_of
from notifier import provider_callbacks
from workers import failover_jobs, metrics
from workers.queues import enqueue_deliveries

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def twiml(body: str = EMPTY_TWIML, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/xml")


@bp.post("/twilio/status")
@twilio_signed(get_settings)
@stored_or_retry_later
def twilio_status():
    """Apply a message or call status callback; unknown ids get 200 so Twilio stops retrying."""
    settings = get_settings()
    report = report_of(request.form)
    if report.account and report.account != settings.twilio_account_sid:
        # Signed with our token but about another account (a subaccount's number pointed here).
        log.warning("status callback for account %s ignored: not ours", report.account[:8])
        return twiml()
    session = db()
    now = datetime.now(timezone.utc)
    applied = provider_callbacks.apply_callback(session, settings, request.args.get("d", ""),
                                                report, now)
    delivery = applied.delivery
    if applied.redial_in is not None:
        _queue_redial(settings, delivery, applied.redial_in)
        return twiml()
    if applied.changed:
        metrics.callback_applied(delivery.channel, report.status, report.error_code)
    moved = (failover_jobs.after_callback(session, settings, delivery.id, report.error_code, now)
             if applied.fail_over else [])
    if moved:  # queued once committed, so that the worker finds the rows
        session.commit()
        failover_jobs.enqueue(settings, moved)
    return twiml()


def _queue_redial(settings, delivery, wait) -> None:
    # Queued before the commit, delayed: the worker looks only after `wait`, by then committed.
    try:
        enqueue_deliveries(settings, delivery.channel, [delivery.id], delay=wait)
    except (RedisError, OSError) as exc:
        # The row is retry_wait with its time: `python -m notifier resume` queues it.
        log.warning("redial not queued (%s); the sweep will alert_id=%s delivery_id=%s", exc,
                    delivery.alert_id, delivery.id)

"""Twilio's status callbacks: signed, idempotent, one indexed lookup and one guarded UPDATE each.

A callback that cannot be stored answers 503 (admin_ui.webhook_store) so Twilio sends it again;
one that names no delivery of ours, or names one by `d` but carries another message's sid, gets
200 and moves nothing (Twilio would only send it again).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask import Blueprint, Response, request
from redis.exceptions import RedisError
from sqlalchemy import bindparam, select, update

from admin_ui import db, get_settings
from admin_ui.twilio_signature import twilio_signed
from admin_ui.webhook_store import stored_or_retry_later
from notifier import deliveries, subscriptions
from notifier.models import Delivery
from workers import failover_jobs
from workers import metrics
from workers.queues import enqueue_deliveries

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
# Twilio error 21610: the recipient replied STOP to the carrier; they must get no more SMS.
CARRIER_OPT_OUT = "21610"
# A message or call reported thus may fail over to another channel (Twilio 30006, 30005).
FAILOVER_STATUSES = (deliveries.UNDELIVERED, deliveries.FAILED)

# Twilio's MessageStatus / CallStatus → ours; None: progress we do not record.
MESSAGE_STATUSES = {
    "queued": None, "accepted": None, "scheduled": None, "sending": None,
    "sent": deliveries.SENT,
    "delivered": deliveries.DELIVERED, "read": deliveries.DELIVERED,
    "undelivered": deliveries.UNDELIVERED,
    "failed": deliveries.FAILED, "canceled": deliveries.FAILED,
}
CALL_STATUSES = {
    "queued": None, "initiated": None, "ringing": None, "in-progress": None,
    "completed": deliveries.DELIVERED,
    # A call nobody answered warned nobody: busy/no-answer are dialled again (VOICE_RETRIES,
    # VOICE_RETRY_SECONDS apart, see `_redial`); they fail only once those are used up.
    "busy": deliveries.FAILED, "no-answer": deliveries.FAILED,
    "failed": deliveries.FAILED, "canceled": deliveries.FAILED,
}


def twiml(body: str = EMPTY_TWIML, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/xml")


@bp.post("/twilio/status")
@twilio_signed(get_settings)
@stored_or_retry_later
def twilio_status():
    """Apply a message or call status callback; unknown ids get 200 so Twilio stops retrying."""
    form = request.form
    account = (form.get("AccountSid") or "").strip()
    if account and account != get_settings().twilio_account_sid:
        # Signed with our token but about another account (a subaccount's number pointed here).
        log.warning("status callback for account %s ignored: not ours", account[:8])
        return twiml()
    sid = (form.get("MessageSid") or form.get("CallSid") or "").strip()
    call_status = ""
    if "MessageStatus" in form:
        ours = MESSAGE_STATUSES.get(form.get("MessageStatus", "").strip().lower())
    else:
        call_status = form.get("CallStatus", "").strip().lower()
        ours = CALL_STATUSES.get(call_status)
    error_code = (form.get("ErrorCode") or "").strip() or None
    session = db()
    delivery = _find_delivery(session, request.args.get("d", ""), sid)
    if delivery is None:
        return twiml()
    now = datetime.now(timezone.utc)
    if sid and not delivery.provider_id:
        # The callback can beat the worker's own record of the provider id.
        session.connection().execute(_FILL_SID, {"delivery_id": delivery.id, "sid": sid})
    if delivery.channel == "voice":
        record_answered_by(session, delivery.id, form.get("AnsweredBy"))
        if call_status in REDIAL_STATUSES and _redial(session, delivery, sid, call_status, now):
            return twiml()
    moved = []
    if ours is not None and deliveries.apply_provider_status(
            session, delivery, ours, now, error_code=error_code,
            error_message=form.get("ErrorMessage") or None):
        metrics.callback_applied(delivery.channel, ours, error_code)
        if ours in FAILOVER_STATUSES:
            moved = failover_jobs.after_callback(session, get_settings(), delivery.id,
                                                 error_code, now)
    if error_code == CARRIER_OPT_OUT and delivery.channel == "sms" and delivery.address:
        if subscriptions.carrier_opt_out(session, delivery.address, "sms", delivery.sent_at, now):
            log.info("carrier reports opt-out (21610) alert_id=%s delivery_id=%s",
                     delivery.alert_id, delivery.id)
        else:
            log.info("21610 predates the resident's opt-in; still opted in alert_id=%s "
                     "delivery_id=%s", delivery.alert_id, delivery.id)
    if moved:  # queued once committed, so that the worker finds the rows
        session.commit()
        failover_jobs.enqueue(get_settings(), moved)
    return twiml()


# Only what the callback needs, as a plain row, by statements built once: loading ORM
# objects and building SQL per request cost more than the database work itself.
_COLUMNS = (Delivery.id, Delivery.status, Delivery.sent_at, Delivery.provider_id,
            Delivery.channel, Delivery.address, Delivery.attempts, Delivery.alert_id)
_BY_ID = select(*_COLUMNS).where(Delivery.id == bindparam("delivery_id"))
_BY_SID = select(*_COLUMNS).where(Delivery.provider_id == bindparam("sid")).limit(1)
_FILL_SID = (update(Delivery)
             .where(Delivery.id == bindparam("delivery_id"), Delivery.provider_id.is_(None))
             .values(provider_id=bindparam("sid")))
MAX_ID = 2**31 - 1


def _find_delivery(session, delivery_ref: str, sid: str):
    """The delivery named by our `d` parameter, else by provider id; None when unknown.

    A `d` row already bound to another provider id is an older attempt's callback: ignored.
    So is a `d` row not yet bound whose sid another delivery holds (a misrouted callback):
    its status is that other message's, and taking its sid would steal that one's callbacks.
    """
    delivery_ref = delivery_ref.strip()
    if delivery_ref.isdigit() and int(delivery_ref) <= MAX_ID:
        if not sid:
            return None
        connection = session.connection()
        delivery = connection.execute(_BY_ID, {"delivery_id": int(delivery_ref)}).first()
        if delivery is None:
            return None
        if delivery.provider_id:
            return delivery if delivery.provider_id == sid else None
        holder = connection.execute(_BY_SID, {"sid": sid}).first()
        return delivery if holder is None else None
    if not sid:
        return None
    return session.connection().execute(_BY_SID, {"sid": sid}).first()


# --- voice: who answered, and dialling again after busy / no-answer -----------------------
REDIAL_STATUSES = frozenset({"busy", "no-answer"})
_ANSWERED_BY = (update(Delivery).where(Delivery.id == bindparam("delivery_id"))
                .values(answered_by=bindparam("answered_by")))


def record_answered_by(session, delivery_id: int, answered_by: str | None) -> None:
    """Keep Twilio's AnsweredBy (human, machine_end_beep, fax…) on the delivery."""
    answered_by = (answered_by or "").strip()
    if answered_by:
        session.connection().execute(_ANSWERED_BY, {"delivery_id": delivery_id,
                                                    "answered_by": answered_by[:20]})


def _redial(session, delivery, sid: str, call_status: str, now: datetime) -> bool:
    """Park an unanswered call for another try; False when its tries are used up."""
    settings = get_settings()
    if delivery.attempts > settings.voice_retries:
        return False
    next_at = now + timedelta(seconds=settings.voice_retry_seconds)
    if not deliveries.schedule_redial(session, delivery.id, sid, call_status,
                                      f"call {call_status}; calling again", next_at, now):
        return False
    try:
        enqueue_deliveries(settings, "voice", [delivery.id],
                           delay=timedelta(seconds=settings.voice_retry_seconds))
    except (RedisError, OSError) as exc:
        # The row is retry_wait with its time: `python -m notifier resume` queues it.
        log.warning("redial not queued (%s); the sweep will alert_id=%s delivery_id=%s", exc,
                    delivery.alert_id, delivery.id)
    log.info("call %s, calling again at %s alert_id=%s delivery_id=%s", call_status,
             next_at.isoformat(timespec="seconds"), delivery.alert_id, delivery.id)
    return True

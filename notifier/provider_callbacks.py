"""A provider's report about one message, applied: the one place callbacks move deliveries.

The webhook view verifies the signature and turns the provider's words into a StatusReport
(channels/twilio_status.py); `apply_callback` finds the delivery, applies what moves it forward,
and says what is left to queue (a redial, a failover), which the caller does once committed.
Idempotent: a repeat, or a callback about an older attempt, changes nothing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select

from notifier import deliveries, subscriptions
from notifier.models import Delivery

log = logging.getLogger(__name__)

# A message or call reported thus may fail over to another channel (Twilio 30006, 30005).
FAILOVER_STATUSES = (deliveries.UNDELIVERED, deliveries.FAILED)
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class StatusReport:
    provider_id: str  # the provider's id of the message or call (Twilio's SID)
    status: str | None  # ours (notifier.deliveries); None: progress we do not record
    word: str = ""  # the provider's own status word, for the logs
    error_code: str | None = None
    error_message: str | None = None
    unanswered: bool = False  # a call nobody picked up (busy, no answer): dial again
    answered_by: str | None = None  # who picked up a call (human, machine…)
    opt_out: bool = False  # the carrier says the address refuses this channel
    account: str = ""  # the provider account the report is about ("" when not said)


@dataclass(frozen=True)
class Applied:
    delivery: object | None  # the row the report was about (None: not one of ours)
    changed: bool = False  # its status moved
    redial_in: timedelta | None = None  # parked for another call: queue it this much later
    fail_over: bool = False  # it failed for good in a way another channel may still reach


# Only what a callback needs, as a plain row, by statements built once: loading ORM objects and
# building SQL per request cost more than the database work itself.
_COLUMNS = (Delivery.id, Delivery.status, Delivery.sent_at, Delivery.provider_id,
            Delivery.channel, Delivery.address, Delivery.attempts, Delivery.alert_id)
_BY_ID = select(*_COLUMNS).where(Delivery.id == bindparam("delivery_id"))
_BY_SID = select(*_COLUMNS).where(Delivery.provider_id == bindparam("sid")).limit(1)


def apply_callback(session, settings, delivery_ref: str, report: StatusReport,
                   now: datetime) -> Applied:
    """Apply `report` to the delivery named by `delivery_ref` (our `d` parameter) or by the
    provider's id; an unknown one gives Applied(None)."""
    delivery = find_delivery(session, delivery_ref, report.provider_id)
    if delivery is None:
        return Applied(None)
    if report.provider_id and not delivery.provider_id:
        deliveries.fill_provider_id(session, delivery.id, report.provider_id)
    deliveries.record_answered_by(session, delivery.id, report.answered_by)
    if report.unanswered:
        redial_in = _redial(session, settings, delivery, report, now)
        if redial_in is not None:
            return Applied(delivery, changed=True, redial_in=redial_in)
    changed = report.status is not None and deliveries.apply_provider_status(
        session, delivery, report.status, now, error_code=report.error_code,
        error_message=report.error_message)
    if report.opt_out and delivery.address:
        _carrier_opt_out(session, delivery, now)
    return Applied(delivery, changed=changed,
                   fail_over=changed and report.status in FAILOVER_STATUSES)


def find_delivery(session, delivery_ref: str, sid: str):
    """The delivery named by our `d` parameter, else by provider id; None when unknown.

    A `d` row already bound to another provider id is an older attempt's callback: ignored.
    So is a `d` row not yet bound whose sid another delivery holds (a misrouted callback):
    its status is that other message's, and taking its sid would steal that one's callbacks.
    """
    delivery_ref = (delivery_ref or "").strip()
    if not sid:
        return None
    connection = session.connection()
    if delivery_ref.isdigit() and int(delivery_ref) <= MAX_ID:
        delivery = connection.execute(_BY_ID, {"delivery_id": int(delivery_ref)}).first()
        if delivery is None:
            return None
        if delivery.provider_id:
            return delivery if delivery.provider_id == sid else None
        holder = connection.execute(_BY_SID, {"sid": sid}).first()
        return delivery if holder is None else None
    return connection.execute(_BY_SID, {"sid": sid}).first()


def _redial(session, settings, delivery, report: StatusReport, now: datetime) -> timedelta | None:
    """Park an unanswered call for another try; None once its tries are used up."""
    if delivery.attempts > settings.voice_retries:
        return None
    wait = timedelta(seconds=settings.voice_retry_seconds)
    if not deliveries.schedule_redial(session, delivery.id, report.provider_id, report.word,
                                      f"call {report.word}; calling again", now + wait, now):
        return None
    log.info("call %s, calling again at %s alert_id=%s delivery_id=%s", report.word,
             (now + wait).isoformat(timespec="seconds"), delivery.alert_id, delivery.id)
    return wait


def _carrier_opt_out(session, delivery, now: datetime) -> None:
    if subscriptions.carrier_opt_out(session, delivery.address, delivery.channel,
                                     delivery.sent_at, now):
        log.info("carrier reports opt-out (%s) alert_id=%s delivery_id=%s", delivery.channel,
                 delivery.alert_id, delivery.id)
    else:
        log.info("carrier opt-out predates the resident's opt-in; still opted in alert_id=%s "
                 "delivery_id=%s", delivery.alert_id, delivery.id)

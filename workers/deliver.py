"""Delivery: claim a batch of deliveries, render them, hand them to a channel; the outcomes go
to workers/recorder.py as they arrive.

The DB session is closed before the provider is called, so no connection or lock is held while
providers answer.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Sequence

from sqlalchemy import select

from channels.base import ChannelError
from channels.registry import channel_for, compose_for
from notifier import alerts as alert_states, broadcast, deliveries, subscriptions
from notifier.config import Settings
from notifier.db import session_scope, use_audit_key
from notifier.models import Alert
from workers.gate import Gate
from workers.lane import Lane
from workers.recorder import Recorder
from workers.slots import for_channel as account_slots

log = logging.getLogger("workers.deliver")


def warm_up() -> None:
    """Load, once in the worker before it forks, what each job's process would load again.

    RQ forks a process per job and throws it away after: a lazily imported module or a mapper
    configured in a job is paid once per batch (about 0.15 s of CPU each, a seventh of a
    1,000-message batch, and on the way to the first SMS of an alert).
    """
    from importlib import import_module

    from sqlalchemy.orm import configure_mappers

    import_module("twilio.rest.api.v2010.account")  # what Client.messages imports on first use
    configure_mappers()


def deliver_batch(channel: str, delivery_ids: Sequence[int],
                  claim_token: str | None = None) -> dict:
    """Send the claimable deliveries among `delivery_ids` on `channel`; return counts.

    Rows not `pending`/`retry_wait` (already sent by a duplicated job, cancelled…) are left
    alone, so running the same job twice sends nothing twice. `claim_token` names the claim
    on the rows: the job keeps its heartbeat alive meanwhile (workers/jobs.py).
    """
    settings = Settings.from_env()
    use_audit_key(settings.database_url, settings.audit_key)
    now = _now()
    # Emergency work paces first; routine work gives way to it (workers/lane.py).
    lane = Lane.of_current_job(settings, channel)
    # The sandbox calls no provider, so it has no provider's rate to keep to.
    pace = None if settings.is_sandboxed(channel) else lane.pace()
    chan = channel_for(channel, settings, pace=pace)
    if chan is not None:
        # Workers together keep to the provider account's limit on calls in flight.
        chan.slots = account_slots(settings, chan)
    with session_scope(settings.database_url) as session:
        claimed = deliveries.claim(session, delivery_ids, now, claim_token)
        if not claimed:
            return {"claimed": 0}
        if chan is None:
            deliveries.mark_skipped(session, [c.id for c in claimed], "channel not configured", now)
            return {"claimed": len(claimed), "skipped": len(claimed)}
        messages, skipped, alerts = _prepare(session, settings, channel, claimed, now)
    # The session is closed: no connection or lock is held while providers answer.
    by_id = {c.id: c for c in claimed}
    recorder = Recorder(settings, channel, by_id, {m.delivery_id: m for m in messages},
                        simulated=chan.simulated,
                        alert_sent_at={a.id: a.sent_at for a in alerts.values()})
    # A STOP or a cancel committed from now on is obeyed message by message.
    # (The partners' notice of a cancel is about the cancel: no cancel withholds it.)
    gate = Gate(settings.database_url, channel,
                {m.delivery_id: by_id[m.delivery_id] for m in messages
                 if by_id[m.delivery_id].event != broadcast.ALERT_CANCELLED}, settings.redis_url)
    recorder.start()
    try:
        chan.send_batch(messages, on_outcome=recorder.add, hold=lane.hold(gate))
    except Exception as exc:
        # A bug or an unmapped error broke the batch: what got no outcome is retried rather
        # than left `sending` until a sweep (it may resend what was in flight at that moment).
        recorder.stop()
        lost = [ChannelError(f"worker error: {type(exc).__name__}", permanent=False,
                             delivery_id=m.delivery_id)
                for m in messages if m.delivery_id not in recorder.recorded]
        recorder.write(lost)
        log.error("%s batch broke after %d outcomes; %d to retry %s", channel,
                  len(recorder.recorded) - len(lost), len(lost), _ids(claimed))
        raise
    recorder.stop()
    counts = dict(recorder.counts, claimed=len(claimed),
                  skipped=skipped + recorder.counts["skipped"])
    log.info("%s batch %s %s", channel, _ids(claimed),
             " ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def _ids(claimed) -> str:
    """`alert_id=… delivery_id=first..last`: what a log line about a batch is about."""
    alerts = ",".join(str(a) for a in sorted({c.alert_id for c in claimed}))
    return f"alert_id={alerts} delivery_id={claimed[0].id}..{claimed[-1].id}"


def _prepare(session, settings: Settings, channel: str, claimed, now: datetime):
    """Return (messages, count of rows not to send, the claimed rows' alerts by id): opted-out,
    address-less and expired rows are skipped, rows of a cancelled alert cancelled."""
    refused = subscriptions.opted_out(session, {c.address for c in claimed if c.address}, channel)
    no_address = [c.id for c in claimed if not c.address]
    opted = [c.id for c in claimed if c.address and c.address in refused]
    deliveries.mark_skipped(session, no_address, "no address", now)
    deliveries.mark_skipped(session, opted, "opted out", now)
    gone = set(no_address) | set(opted)
    alert_ids = {c.alert_id for c in claimed}
    alerts = {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_(alert_ids)))}
    # An expired warning is misleading, and a retry can come after expiry.
    expired = [c.id for c in claimed if c.id not in gone
               and alerts[c.alert_id].expires_at is not None
               and alerts[c.alert_id].expires_at <= now]
    deliveries.mark_skipped(session, expired, "alert expired", now)
    gone |= set(expired)
    # A retry parked just as its alert was cancelled must not go out later.
    # (Not the partners' notice that it was cancelled: that one is about the cancel.)
    stopped = [c.id for c in claimed if c.id not in gone
               and alerts[c.alert_id].state == alert_states.CANCELLED
               and c.event != broadcast.ALERT_CANCELLED]
    deliveries.mark_cancelled(session, stopped, now)
    gone |= set(stopped)
    compose = compose_for(channel)
    cache: dict = {}  # what the batch's readers of one language share (the text, rendered once)
    messages = [compose(session, settings, c, alerts[c.alert_id], now, cache)
                for c in claimed if c.id not in gone]
    return messages, len(gone), alerts


def _now() -> datetime:
    return datetime.now(timezone.utc)

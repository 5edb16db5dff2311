"""The resume sweep: rebuild queued work from SQL after Redis was lost or a worker crashed.

Redis holds only the queue; the database knows what is unfinished. Re-queueing work that is
still queued is harmless: fan-out is idempotent and a delivery job claims only claimable rows.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from notifier import broadcast, deliveries
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Alert, Delivery
from workers import metrics
from workers.heartbeat import alive
from workers.queues import batch_size_for, enqueue_deliveries, enqueue_fan_out, redis_connection

log = logging.getLogger("workers.sweep")

# A `sending` row untouched this long belongs to a worker that died mid-call.
STALE_SENDING = timedelta(minutes=5)
RETRY_LIMIT = 200_000
LIVE_ALERT_STATES = ("sending", "sent")
# A stop is announced by a job queued after it commits; one this old without its notice lost
# that job (Redis down at the moment), and the sweep makes the notice itself.
NOTICE_GRACE = timedelta(seconds=15)
NOTICE_WINDOW = timedelta(hours=24)
# Rows released from quiet hours per transaction: a city-wide routine alert's million wait
# until 08:00 and go out in a few dozen short writes, never one held for minutes.
RELEASE_STEP = 50_000
EXPIRED = "alert expired"


def still_to_send():
    """Which unfinished rows are worth sending: those of live alerts, and the partners'
    notices that an alert was stopped (about a cancelled alert by nature)."""
    live = select(Alert.id).where(Alert.state.in_(LIVE_ALERT_STATES))
    return or_(Delivery.alert_id.in_(live), Delivery.event == broadcast.ALERT_CANCELLED)


def announce_missed_cancels(settings: Settings, now: datetime) -> int:
    """Make the cancel notices of public alerts stopped in the last day that have none yet
    (their job was lost); return how many alerts were announced."""
    if not settings.webhook_urls:
        return 0
    noticed = (select(Delivery.id).where(Delivery.alert_id == Alert.id,
                                         Delivery.event == broadcast.ALERT_CANCELLED).exists())
    with session_scope(settings.database_url, readonly=True) as session:
        ids = session.scalars(select(Alert.id).where(
            Alert.status == "Actual", Alert.sent_at.is_not(None),
            Alert.cancelled_at > now - NOTICE_WINDOW, Alert.cancelled_at < now - NOTICE_GRACE,
            ~noticed).order_by(Alert.id)).all()
    from workers.fan_out import fan_out_broadcast  # the fan-out imports the channels

    for alert_id in ids:
        fan_out_broadcast(settings, alert_id, broadcast.ALERT_CANCELLED)
    if ids:
        log.warning("cancel notices made for %d stopped alerts whose job was lost", len(ids))
    return len(ids)


def resume(settings: Settings, now: datetime,
           stale_after: timedelta | None = STALE_SENDING, fan_outs: bool = True) -> dict:
    """Queue again what the database says is unfinished; return counts of what was queued.

    {"fan_outs": alerts whose fan-out is re-queued, "pending": pending deliveries queued,
     "retries": retry_wait rows now due, "stale": `sending` rows given back to retry}.
    `stale_after` None leaves `sending` rows alone, and `fan_outs` False alerts not fanned
    out: the healing sweep judges those by their heartbeats.
    """
    conn = redis_connection(settings)
    url = settings.database_url
    counts = {"fan_outs": 0, "pending": 0, "retries": 0, "stale": 0}

    unfanned = []
    if fan_outs:
        with session_scope(url, readonly=True) as session:
            unfanned = session.scalars(select(Alert.id).where(
                Alert.state == "sending", Alert.fanned_out_at.is_(None)).order_by(Alert.id)).all()
    for alert_id in unfanned:
        enqueue_fan_out(settings, alert_id, connection=conn)
    counts["fan_outs"] = len(unfanned)

    if stale_after is not None:
        counts["stale"] = len(give_back_stale(settings, now, stale_after, conn))

    made = announce_missed_cancels(settings, now)
    if made:  # said only when it happened: "nothing to do" stays short
        counts["cancel_notices"] = made
    ended = release_scheduled(settings, now, conn)
    counts.update({f"scheduled_{k}": n for k, n in ended.items() if n})
    with session_scope(url, readonly=True) as session:
        rows = session.execute(
            select(Delivery.id, Delivery.channel)
            .where(Delivery.status == deliveries.PENDING, still_to_send())
            .order_by(Delivery.channel, Delivery.id)
            .execution_options(yield_per=10_000))
        counts["pending"] = enqueue_stream(settings, rows, conn)

    with session_scope(url, readonly=True) as session:
        due = deliveries.due_for_retry(session, now, limit=RETRY_LIMIT)
    counts["retries"] = enqueue_stream(settings, due, conn)
    if any(counts.values()):
        log.info("resume: %s", " ".join(f"{k}={v}" for k, v in counts.items()))
    metrics.record_sweep(counts)
    return counts


def release_scheduled(settings: Settings, now: datetime, conn=None) -> dict:
    """End quiet hours that are over: `scheduled` rows of alerts that expired are skipped,
    those of live alerts whose time has come go `pending` and are queued. Returns
    {"released", "expired"}. `now` is the sweep's clock (the healing sweep's round)."""
    url = settings.database_url
    expired_alerts = select(Alert.id).where(Alert.expires_at <= now)
    live = select(Alert.id).where(Alert.state.in_(LIVE_ALERT_STATES),
                                  or_(Alert.expires_at.is_(None), Alert.expires_at > now))
    with session_scope(url) as session:
        expired = deliveries.expire_scheduled(session, expired_alerts, EXPIRED, now)
    released = 0
    while True:
        with session_scope(url) as session:
            rows = deliveries.release_scheduled(session, now, live, limit=RELEASE_STEP)
        if rows:
            released += enqueue_stream(settings, rows, conn or redis_connection(settings))
        if len(rows) < RELEASE_STEP:
            break
    if released or expired:
        log.info("quiet hours over: released=%d expired=%d", released, expired)
    return {"released": released, "expired": expired}


def give_back_stale(settings: Settings, now: datetime, stale_after: timedelta,
                    conn=None) -> list[tuple[int, str]]:
    """Give back `sending` rows claimed before `now - stale_after` whose claim has no live
    heartbeat (or no token: claimed before heartbeats); return their (id, channel).

    A worker that died between claiming and recording leaves rows `sending`. Giving them back
    may resend the messages that were in flight when it died: a duplicate beats a missed
    warning. A live worker's heartbeat keeps its rows, however long its batch runs.
    """
    conn = conn or redis_connection(settings)
    with session_scope(settings.database_url, readonly=True) as session:
        tokens = [t for t in deliveries.claim_tokens(session) if t is not None]
        live = sorted(alive(conn, tokens))
        stale = session.execute(select(Delivery.id, Delivery.channel).where(
            Delivery.status == deliveries.SENDING,
            Delivery.updated_at < now - stale_after,
            or_(Delivery.claim_token.is_(None), Delivery.claim_token.not_in(live)))).all()
    if stale:  # guarded by `sending`: a row recorded meanwhile stays as it is
        with session_scope(settings.database_url) as session:
            deliveries.schedule_retry(
                session, [(i, "worker", "worker stopped while sending", now) for i, _ in stale],
                now)
    return [(i, c) for i, c in stale]


def enqueue_stream(settings: Settings, rows, conn) -> int:
    """Queue (id, channel) rows in jobs of the batch size without holding them all; return count."""
    buffers: dict[str, list[int]] = {}
    total = 0
    for delivery_id, channel in rows:
        buf = buffers.setdefault(channel, [])
        buf.append(delivery_id)
        total += 1
        if len(buf) >= batch_size_for(settings, channel) * 10:
            enqueue_deliveries(settings, channel, buf, connection=conn)
            buffers[channel] = []
    for channel, buf in buffers.items():
        enqueue_deliveries(settings, channel, buf, connection=conn)
    return total

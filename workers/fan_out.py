"""Fan-out: turn a sending alert into one Delivery per resident per channel, and queue them.

The audience streams in batches; each batch is one bulk insert, one commit and one enqueue per
channel, so the first messages leave while a million-resident fan-out is still running, and
the worker never holds more than one batch in memory. A Severe or Extreme alert's deliveries go
to the emergency queues; a routine fan-out gives way between batches to emergency work queued
for its worker, and queues itself again to go on afterwards (it is idempotent).
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from channels.registry import channel_for
from notifier import alerts, audience, broadcast, deliveries, frequency_guard, lanes
from notifier.config import Settings
from notifier.db import session_scope, use_audit_key
from notifier.models import Alert
from notifier.quiet_hours import Planner
from workers import metrics
from workers.lane import EmergencyWaiting, served_emergency_queues
from workers.queues import enqueue_deliveries, enqueue_fan_out, redis_connection

log = logging.getLogger("workers.fan_out")

NOT_CONFIGURED = "channel not configured"


def fan_out_alert(alert_id: int) -> dict:
    """Write the deliveries of alert `alert_id` and queue them; return counts.

    Only an alert in state `sending` fans out; a cancelled one (even mid-way) stops. Running it
    again inserts nothing already there (the unique key) and queues only what it inserted.
    """
    started = time.monotonic()
    settings = Settings.from_env()
    use_audit_key(settings.database_url, settings.audit_key)
    counts = {"pending": 0, "skipped": 0, "scheduled": 0, "batches": 0, "stopped": None}
    url = settings.database_url
    configured: dict[str, bool] = {}
    conn = redis_connection(settings)
    # The audience is read in a read-only session (no write lock held for a minute on SQLite);
    # each batch is written in a short transaction of its own.
    with session_scope(url, readonly=True) as reader:
        alert = reader.get(Alert, alert_id)
        if alert is None:
            log.warning("fan-out alert_id=%s: no such alert", alert_id)
            counts["stopped"] = "no such alert"
            return counts
        if alert.state != "sending":
            log.info("fan-out alert_id=%s: alert is %s, nothing to send", alert_id, alert.state)
            counts["stopped"] = alert.state
            return counts
        if alert.fanned_out_at is not None:
            log.info("fan-out alert_id=%s: already fanned out", alert_id)
            counts["stopped"] = "already fanned out"
            return counts
        emergency = lanes.is_emergency(alert.severity)
        others = EmergencyWaiting(conn, () if emergency else served_emergency_queues(conn))
        # Quiet hours are judged at the moment the alert was sent, however long the fan-out.
        planner = Planner(alert, settings, alert.sent_at or _now())
        guarded = (frequency_guard.guarded_today(reader, alert, ZoneInfo(settings.timezone), _now())
                   if frequency_guard.applies(alert, settings.max_routine_per_day) else None)
        for batch in audience.iter_recipients(reader, alert, settings, settings.batch_size):
            capped = _capped(reader, guarded, batch, settings.max_routine_per_day)
            rows = [_row(alert_id, r, settings, configured, planner, capped) for r in batch]
            now = _now()
            with session_scope(url) as writer:
                state = _locked_state(writer, alert_id)
                if state != "sending":
                    counts["stopped"] = state
                    log.info("fan-out alert_id=%s: alert became %s; stopping", alert_id, state)
                    return counts
                new = deliveries.insert_pending(writer, rows, now)
            counts["batches"] += 1
            counts["pending"] += len(new)
            counts["skipped"] += sum(1 for r in rows if r.get("status") == deliveries.SKIPPED)
            counts["scheduled"] += sum(1 for r in rows if r.get("status") == deliveries.SCHEDULED)
            metrics.count_fanned_out(rows, new)
            by_channel: dict[str, list[int]] = defaultdict(list)
            for delivery_id, channel in new:
                by_channel[channel].append(delivery_id)
            for channel, ids in by_channel.items():
                enqueue_deliveries(settings, channel, ids, connection=conn, emergency=emergency)
            if others.waiting():
                # Asked only after a batch, so each run gets somewhere whatever comes.
                enqueue_fan_out(settings, alert_id, conn, emergency=False, resumed=True)
                log.info("fan-out: alert %s gives way to emergency work after %d batches",
                         alert_id, counts["batches"])
                counts["stopped"] = "gave way"
                return counts
    counts["broadcast"] = fan_out_broadcast(settings, alert_id, broadcast.ALERT_SENT, conn)
    with session_scope(url) as writer:
        alerts.mark_fanned_out(writer, alert_id, _now())
    metrics.FAN_OUT_SECONDS.observe(time.monotonic() - started)
    log.info("fan-out alert_id=%s: queued=%d skipped=%d scheduled=%d batches=%d", alert_id,
             counts["pending"], counts["skipped"], counts["scheduled"], counts["batches"])
    return counts


def fan_out_broadcast(settings: Settings, alert_id: int, event: str, conn=None) -> int:
    """Write and queue the broadcast deliveries `event` of the alert makes (social posts,
    partner webhooks; none unless it is Actual); return how many were new."""
    with session_scope(settings.database_url) as writer:
        alert = writer.get(Alert, alert_id)
        if alert is None:
            return 0
        emergency = lanes.is_emergency(alert.severity)
        new = deliveries.insert_broadcast(
            writer, broadcast.rows_for(writer, alert, settings, event), _now())
    by_channel: dict[str, list[int]] = defaultdict(list)
    for delivery_id, channel in new:
        by_channel[channel].append(delivery_id)
    for channel, ids in by_channel.items():
        enqueue_deliveries(settings, channel, ids, connection=conn, emergency=emergency)
    if new:
        log.info("fan-out alert_id=%s: %d broadcast deliveries (%s)", alert_id, len(new), event)
    return len(new)


def _capped(reader, guarded: list[int] | None, batch, cap: int) -> set[int]:
    """Residents of `batch` the frequency guard skips (None: the guard does not apply)."""
    if guarded is None:
        return set()
    residents = {r.subscriber_id for r in batch}
    return frequency_guard.capped(frequency_guard.counts(reader, guarded, residents),
                                  residents, cap)


def _row(alert_id: int, recipient, settings: Settings, configured: dict[str, bool],
         planner: Planner, capped: set[int]) -> dict:
    row = {"alert_id": alert_id, "subscriber_id": recipient.subscriber_id,
           "channel": recipient.channel, "address": recipient.address,
           "language": recipient.language}
    reason = recipient.skip_reason
    if not reason and not _configured(recipient.channel, settings, configured):
        reason = NOT_CONFIGURED
    if not reason and recipient.subscriber_id in capped:
        reason = frequency_guard.REASON
    if reason:
        row["status"] = deliveries.SKIPPED
        row["error_message"] = reason
        return row
    not_before = planner.not_before(recipient.quiet_hours)
    if not_before is not None:
        row["status"] = deliveries.SCHEDULED
        row["next_attempt_at"] = not_before
    return row


def _configured(channel: str, settings: Settings, cache: dict[str, bool]) -> bool:
    if channel not in cache:
        cache[channel] = channel_for(channel, settings) is not None
    return cache[channel]


def _locked_state(session, alert_id: int) -> str | None:
    # FOR UPDATE (PostgreSQL) orders this insert with a concurrent cancel, which updates the
    # alert row: either the cancel sees our rows and cancels them, or we see it and stop.
    # SQLite's BEGIN IMMEDIATE already serialises writers.
    return session.scalar(select(Alert.state).where(Alert.id == alert_id).with_for_update())


def _now() -> datetime:
    return datetime.now(timezone.utc)

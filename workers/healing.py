"""The healing sweep: on a timer, workers give back a dead peer's work and re-queue lost jobs.

Every HEAL_SECONDS one worker (the first to take a short Redis lock; the others skip the round)
looks for:
- claims whose heartbeat is gone (workers/heartbeat.py): their `sending` rows go back to retry,
  queued at once. What was in flight when the worker died may go twice: a duplicate beats a
  missed warning;
- a Redis that lost its data (flushed, restarted without persistence): the epoch key is gone,
  so everything the database says is unfinished is queued again (workers/sweep.resume). Claims
  are judged only a heartbeat lifetime later, once live workers have written theirs again;
- alerts `sending` but not fanned out whose fan-out has neither a heartbeat nor a waiting job;
- pending rows, and retries long overdue, of a channel whose queues are empty: their job was
  lost (evicted, or never queued while Redis was down);
- `scheduled` rows whose resident's quiet hours are over: queued (`pending`) within a round of
  the end, or skipped when their alert expired first (workers/sweep.release_scheduled).
All it queues is safe to run twice: a delivery job claims only claimable rows, and a fan-out
inserts only missing rows. `python -m notifier resume` stays the manual tool.
"""
from __future__ import annotations

import logging
import math
import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta

import redis
from rq.exceptions import InvalidJobOperation
from rq.job import Job, JobStatus
from sqlalchemy import or_, select

from notifier import deliveries
from notifier.config import CHANNELS, Settings
from notifier.db import session_scope
from notifier.models import Alert, Delivery
from notifier.redis_url import connect
from workers import metrics, side_process
from workers.heartbeat import alive, fan_out_token, ttl_seconds
from workers.queues import (SERIALIZER, enqueue_deliveries, enqueue_fan_out, lane_queue, queue,
                            redis_connection)
from workers.sweep import (STALE_SENDING, announce_missed_cancels, enqueue_stream,
                           give_back_stale, release_scheduled, resume, still_to_send)

log = logging.getLogger("workers.healing")

LOCK_KEY = "tocsin:healing:lock"
# Written by the first sweep and never expiring: gone means Redis lost everything it held.
EPOCH_KEY = "tocsin:healing:epoch"
# A pending row this old with no job waiting in its channel's queues lost its job; younger ones
# may be between their fan-out's commit and its enqueue.
ORPHAN_AGE = timedelta(seconds=15)
# A retry's job is scheduled for the latest time of its batch, plus jitter: up to about a
# minute after the row's own time (workers/deliver.py).
OVERDUE_RETRY = timedelta(minutes=2)
# The API commits an alert `sending`, then queues its fan-out.
FAN_OUT_GRACE = timedelta(seconds=15)
WAITING = frozenset({JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED})
ORPHAN_LIMIT = 100_000
RETRY_STEP = 10  # seconds: retries rescheduled after a Redis loss go in jobs this far apart
GAVE_BACK = "worker stopped while sending"


def heal(settings: Settings, now: datetime, connection: redis.Redis | None = None) -> dict | None:
    """One sweep; returns what it did, or None when another worker has this round's lock.

    {"redis_lost": bool, "resumed": resume()'s counts or None, "released": rows of dead
     claims given back, "stale": untokened rows given back, "fan_outs": fan-outs queued
     again, "orphans": rows whose job was lost, queued again}
    """
    conn = connection or redis_connection(settings)
    lock_ms = max(100, int(settings.heal_seconds * 900))
    if not conn.set(LOCK_KEY, f"{socket.gethostname()}:{os.getpid()}", nx=True, px=lock_ms):
        return None
    counts = {"redis_lost": False, "resumed": None, "released": 0, "stale": 0,
              "fan_outs": 0, "orphans": 0, "cancel_notices": 0, "scheduled_released": 0,
              "scheduled_expired": 0}
    epoch = conn.get(EPOCH_KEY)
    if epoch is None:
        conn.set(EPOCH_KEY, repr(now.timestamp()), nx=True)
        counts["redis_lost"] = True
        # A fan-out at work (a worker just started beside it) keeps its heartbeat: it is
        # judged as in any round, not queued a second time.
        counts["resumed"] = resume(settings, now, stale_after=None, fan_outs=False)
        counts["fan_outs"] = _queue_lost_fan_outs(settings, conn, now)
        # Retries not yet due lost their scheduled jobs too: schedule them again.
        counts["resumed"]["later"] = _schedule_waiting_retries(settings, conn, now)
        log.warning("healing: Redis holds no epoch (lost, flushed or new); queued again "
                    "what the database says is unfinished: %s, fan-outs %d",
                    counts["resumed"], counts["fan_outs"])
        metrics.record_sweep({"redis_lost": 1, "fan_outs": counts["fan_outs"]})
        return counts
    if now.timestamp() - float(epoch) >= ttl_seconds(settings):
        counts["released"] = _release_dead_claims(settings, conn, now)
        # Rows claimed before claims had tokens: the old age rule.
        stale = give_back_stale(settings, now, STALE_SENDING, conn)
        counts["stale"] = enqueue_stream(settings, stale, conn)
    counts["fan_outs"] = _queue_lost_fan_outs(settings, conn, now)
    counts["orphans"] = _queue_orphans(settings, conn, now)
    counts["cancel_notices"] = announce_missed_cancels(settings, now)
    ended = release_scheduled(settings, now, conn)
    counts["scheduled_released"], counts["scheduled_expired"] = ended["released"], ended["expired"]
    actions = {k: counts[k] for k in ("released", "stale", "fan_outs", "orphans",
                                      "cancel_notices", "scheduled_released",
                                      "scheduled_expired")}
    metrics.record_sweep(actions)
    if any(actions.values()):
        log.warning("healing: %s", counts)
    return counts


def _release_dead_claims(settings: Settings, conn: redis.Redis, now: datetime) -> int:
    with session_scope(settings.database_url, readonly=True) as session:
        tokens = [t for t in deliveries.claim_tokens(session) if t is not None]
    dead = sorted(set(tokens) - alive(conn, tokens))
    if not dead:
        return 0
    with session_scope(settings.database_url) as session:
        rows = deliveries.release_claims(session, dead, GAVE_BACK, now)
    return enqueue_stream(settings, rows, conn)


def _queue_lost_fan_outs(settings: Settings, conn: redis.Redis, now: datetime) -> int:
    with session_scope(settings.database_url, readonly=True) as session:
        ids = session.scalars(select(Alert.id).where(
            Alert.state == "sending", Alert.fanned_out_at.is_(None),
            or_(Alert.sent_at.is_(None), Alert.sent_at < now - FAN_OUT_GRACE))
            .order_by(Alert.id)).all()
    if not ids:
        return 0
    working = alive(conn, [fan_out_token(i) for i in ids])
    lost = [i for i in ids if fan_out_token(i) not in working
            and _job_status(conn, fan_out_token(i)) not in WAITING]
    for alert_id in lost:
        enqueue_fan_out(settings, alert_id, connection=conn)
    return len(lost)


def _schedule_waiting_retries(settings: Settings, conn: redis.Redis, now: datetime) -> int:
    """Schedule jobs for the retry_wait rows not yet due, in steps of RETRY_STEP seconds."""
    with session_scope(settings.database_url, readonly=True) as session:
        rows = session.execute(select(Delivery.id, Delivery.channel, Delivery.next_attempt_at)
                               .where(Delivery.status == deliveries.RETRY_WAIT,
                                      Delivery.next_attempt_at > now)
                               .order_by(Delivery.id).limit(ORPHAN_LIMIT)).all()
    steps: dict[tuple[str, int], list[int]] = {}
    for delivery_id, channel, at in rows:
        wait = math.ceil((at - now).total_seconds() / RETRY_STEP) * RETRY_STEP
        steps.setdefault((channel, wait), []).append(delivery_id)
    for (channel, wait), ids in sorted(steps.items()):
        enqueue_deliveries(settings, channel, ids, delay=max(wait, 1), connection=conn)
    return len(rows)


def _job_status(conn: redis.Redis, job_id: str) -> JobStatus | None:
    try:
        return Job(job_id, connection=conn, serializer=SERIALIZER).get_status()
    except InvalidJobOperation:  # no such job: Redis lost it, or it expired
        return None


def _queue_orphans(settings: Settings, conn: redis.Redis, now: datetime) -> int:
    """Queue the unfinished rows of channels with no job waiting; their jobs were lost."""
    # A channel's jobs wait in its queue and in its emergency twin.
    idle = [c for c in CHANNELS if not any(queue(settings, lane_queue(c, urgent), conn).count
                                           for urgent in (False, True))]
    if not idle:
        return 0
    # One query per status, each led by the status index: the table holds every alert's rows.
    unfinished = [(deliveries.PENDING, Delivery.queued_at < now - ORPHAN_AGE),
                  (deliveries.RETRY_WAIT, Delivery.next_attempt_at < now - OVERDUE_RETRY)]
    rows = []
    with session_scope(settings.database_url, readonly=True) as session:
        for status, overdue in unfinished:
            rows += session.execute(
                select(Delivery.id, Delivery.channel)
                .where(Delivery.status == status, overdue, Delivery.channel.in_(idle),
                       still_to_send())
                .order_by(Delivery.id).limit(ORPHAN_LIMIT)).all()
    return enqueue_stream(settings, sorted(rows, key=lambda r: (r[1], r[0])), conn)


def start_process() -> subprocess.Popen:
    """Start this worker's healing sweep: `python -m workers.healing`, a child that ends with it."""
    return side_process.start("workers.healing")


def run(settings: Settings, parent: int) -> None:
    """Sweep every `settings.heal_seconds` while process `parent` lives."""
    every = settings.heal_seconds
    conn = connect(settings.redis_url, socket_timeout=max(every, 5),
                   socket_connect_timeout=max(every, 5))
    side_process.repeat(lambda now: heal(settings, now, conn), every, parent, "healing sweep")


def main(argv: list[str] | None = None) -> int:
    return side_process.main("python -m workers.healing", "The healing sweep of one worker.", run, argv)


if __name__ == "__main__":
    sys.exit(main())

"""The status-callback applier: batches from workers/callback_queue.py into the database.

`python -m workers` starts one beside each long-running worker (a process of its own, as the
healing sweep); the Redis lock lets one apply at a time, the others stand by. `python -m
workers --burst` and the tests call `drain()` instead: everything queued now, applied once,
never waiting for a lock another applier holds.

What a callback leaves to do happens here, as the webhook did it before: metrics for each row
that moved, failover deliveries written in the same transaction and queued once committed, a
redial queued (delayed) for a call nobody answered.
"""
from __future__ import annotations

import logging
import os
import subprocess
import time
from datetime import datetime, timezone

from redis.exceptions import RedisError

from notifier import callback_batch
from notifier.config import Settings
from notifier.db import session_scope
from workers import callback_queue, failover_jobs, metrics, side_process
from workers.queues import enqueue_deliveries

log = logging.getLogger("workers.callback_apply")

IDLE_WAIT_SECONDS = 1  # how long one wait for a callback blocks (and how soon a dead parent is seen)
RETRY_SECONDS = 1  # after a database or Redis failure, the batch is tried again this much later
# After a small batch, let the next one gather a moment: a transaction per handful of callbacks
# cost the applier several times the CPU of the same callbacks in batches of a hundred.
LINGER_SECONDS = 0.05
SMALL_BATCH = 200


def apply_records(settings: Settings, records: list[bytes]) -> int:
    """Apply one batch of queued records and do what it left to do; return the rows changed.

    Raises the database's error when it cannot be stored (the batch stays queued)."""
    callbacks = []
    for record in records:
        try:
            callbacks.append(callback_batch.decode(record))
        except ValueError as exc:  # not ours (written by hand?): dropped, or it blocks the rest
            log.warning("queued callback dropped: %s", exc)
    if not callbacks:
        return 0
    now = datetime.now(timezone.utc)
    with session_scope(settings.database_url) as session:
        outcomes = callback_batch.apply_batch(session, settings, callbacks)
        moved = []
        for o in outcomes:
            if o.fail_over and o.redial_in is None:
                moved += failover_jobs.after_callback(session, settings, o.delivery_id,
                                                      o.error_code, now)
    for o in outcomes:  # committed: the worker finds the rows these queue
        if o.redial_in is not None:
            _queue_redial(settings, o)
        else:
            metrics.callback_applied(o.channel, o.status, o.error_code)
    if moved:
        failover_jobs.enqueue(settings, moved)
    return len(outcomes)


def _queue_redial(settings: Settings, o) -> None:
    try:
        enqueue_deliveries(settings, o.channel, [o.delivery_id], delay=o.redial_in)
    except (RedisError, OSError) as exc:
        # The row is retry_wait with its time: `python -m notifier resume` queues it.
        log.warning("redial not queued (%s); the sweep will alert_id=%s delivery_id=%s", exc,
                    o.alert_id, o.delivery_id)


def step(settings: Settings, lock: callback_queue.Lock, wait: int = 0) -> int | None:
    """Apply one batch; with `wait`, block up to that many seconds when there is none.

    Returns the records applied (0: none queued), None when the lock is not (or no longer)
    this holder's. A database failure raises, the batch kept for the next try."""
    records = lock.take()
    if records is None:
        return None
    if not records:
        if wait:
            lock.wait_for_more(wait)
        return 0
    apply_records(settings, records)
    if not lock.done():
        log.warning("callback lock lost while applying %d; the next holder applies them again",
                    len(records))
        return None
    return len(records)


def drain(settings: Settings, conn=None) -> int:
    """Apply every callback queued now, once; 0 at once when another applier holds the lock
    (it applies them). Returns the records applied. Never waits: burst workers exit promptly."""
    conn = conn or callback_queue.connection(settings)
    lock = callback_queue.Lock(conn)
    if not lock.acquire():
        return 0
    total = 0
    try:
        while (n := step(settings, lock)):
            total += n
    finally:
        lock.release()
    return total


def run(settings: Settings, parent: int) -> None:
    """Apply batches while process `parent` (the worker) lives; stand by while another holds
    the lock; a failure is logged and its batch tried again."""
    conn = callback_queue.connection(settings)
    lock = callback_queue.Lock(conn)
    try:
        while os.getppid() == parent:
            try:
                if not lock.acquire():
                    time.sleep(IDLE_WAIT_SECONDS)
                    continue
                if 0 < (step(settings, lock, wait=IDLE_WAIT_SECONDS) or 0) < SMALL_BATCH:
                    time.sleep(LINGER_SECONDS)
            except Exception:  # the database or Redis is down, a bug: the batch stays queued
                log.exception("status callbacks not applied; trying again in %g s",
                              RETRY_SECONDS)
                time.sleep(RETRY_SECONDS)
    finally:
        try:
            lock.release()
        except (RedisError, OSError):
            pass  # it runs out by itself


def start_process() -> subprocess.Popen:
    """Start this worker's applier: `python -m workers.callback_apply`, ending with it."""
    return side_process.start("workers.callback_apply")


def main(argv: list[str] | None = None) -> int:
    return side_process.main("python -m workers.callback_apply",
                             "Apply queued Twilio status callbacks in batches.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

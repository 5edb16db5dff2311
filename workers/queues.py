"""The RQ queues and the two ways work enters them: fan-out of an alert, batches of deliveries."""
from __future__ import annotations

import math
import os
from datetime import timedelta
from typing import Iterable, Sequence

import redis
from rq import Queue
from rq.serializers import JSONSerializer

from notifier.config import Settings
from notifier.redis_url import connect
from workers.throttle import messages_per_second

# `alerts` first: a worker listening on all queues takes fan-out before bulk mail.
QUEUES = ("alerts", "sms", "voice", "email", "social")

# Jobs are named by dotted path so this module never imports the job code (and its channels).
FAN_OUT = "workers.jobs.fan_out_alert"
DELIVER = "workers.jobs.deliver_batch"

# A million-resident fan-out streams for about a minute on a good day; allow a slow disk.
FAN_OUT_TIMEOUT = 3600
# A delivery batch is a few seconds of concurrent provider calls, unless a rate limit paces it.
DELIVER_TIMEOUT = 600
# A paced channel (voice at 1 call/s) gets jobs of about this many seconds of work, so a
# dead worker strands little and other work gets its turn.
PACED_JOB_SECONDS = 120
RESULT_TTL = 3600
# Jobs travel as JSON, never pickle: loading a job from Redis must not run code (workers/guard.py).
SERIALIZER = JSONSerializer

_connections: dict[tuple[int, str], redis.Redis] = {}


def redis_connection(settings: Settings) -> redis.Redis:
    """Return this process's Redis client for `settings.redis_url` (a fresh one after a fork)."""
    key = (os.getpid(), settings.redis_url)
    conn = _connections.get(key)
    if conn is None:
        # RQ stores pickled bytes: no decode_responses.
        conn = _connections[key] = connect(settings.redis_url, socket_connect_timeout=5,
                                           health_check_interval=30)
    return conn


def queue(settings: Settings, name: str, connection: redis.Redis | None = None) -> Queue:
    """Return the RQ queue `name` (one of QUEUES); raise ValueError for any other name."""
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; queues are {', '.join(QUEUES)}")
    return Queue(name, connection=connection or redis_connection(settings), serializer=SERIALIZER)


def enqueue_fan_out(settings: Settings, alert_id: int, connection: redis.Redis | None = None):
    """Queue the fan-out of `alert_id` on `alerts`; return the RQ job.

    The job id is fixed per alert, so queueing it again (a resume after a crash) replaces the
    stored job rather than adding a second one; the fan-out is idempotent in any case.
    """
    return queue(settings, "alerts", connection).enqueue_call(
        FAN_OUT, args=(int(alert_id),), timeout=FAN_OUT_TIMEOUT, result_ttl=RESULT_TTL,
        job_id=f"fan-out-{int(alert_id)}", description=f"fan out alert {int(alert_id)}")


def batch_size_for(settings: Settings, channel: str) -> int:
    """How many deliveries one job of `channel` carries: BATCH_SIZE, less for a slow pace."""
    size = settings.batch_size
    rate = messages_per_second(settings, channel)
    if rate:
        size = min(size, max(1, int(rate * PACED_JOB_SECONDS)))
    return size


def job_timeout(settings: Settings, channel: str, count: int) -> int:
    """Seconds a job of `count` deliveries on `channel` may run before RQ stops it."""
    rate = messages_per_second(settings, channel)
    # Workers share the rate limit, so a job may get only part of it: allow plenty.
    paced = math.ceil(4 * count / rate) if rate else 0
    return max(DELIVER_TIMEOUT, paced + 60)


def enqueue_deliveries(settings: Settings, channel: str, delivery_ids: Iterable[int],
                       delay: float | timedelta | None = None,
                       connection: redis.Redis | None = None) -> list:
    """Queue `deliver_batch(channel, ids)` jobs for `delivery_ids`, in chunks of the batch size.

    `delay` (seconds or a timedelta) schedules them instead: only a worker started with the
    scheduler (`python -m workers` does) moves them to the queue when due. All jobs of one
    call go to Redis in one round trip. Returns the RQ jobs.
    """
    ids = [int(i) for i in delivery_ids]
    if not ids:
        return []
    q = queue(settings, channel, connection)
    size = batch_size_for(settings, channel)
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    if isinstance(delay, (int, float)):
        delay = timedelta(seconds=delay)
    if delay is not None and delay > timedelta(0):
        with q.connection.pipeline() as pipe:
            jobs = [q.enqueue_in(delay, DELIVER, args=(channel, chunk), pipeline=pipe,
                                 **_deliver_options(settings, channel, chunk, retry=True))
                    for chunk in chunks]
            pipe.execute()
        return jobs
    datas = [Queue.prepare_data(DELIVER, args=(channel, chunk),
                                **_deliver_options(settings, channel, chunk))
             for chunk in chunks]
    return q.enqueue_many(datas)


def _deliver_options(settings: Settings, channel: str, chunk: Sequence[int],
                     retry: bool = False) -> dict:
    # A short description: RQ logs it, and a thousand ids would flood the log.
    what = "retry" if retry else "deliver"
    prefix = "job_" if retry else ""
    return {f"{prefix}timeout": job_timeout(settings, channel, len(chunk)),
            "result_ttl": RESULT_TTL,
            "description": f"{what} {len(chunk)} {channel} from #{chunk[0]}"}

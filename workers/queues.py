"""The RQ queues, their emergency twins, and the two ways work enters them: fan-out, deliveries."""
from __future__ import annotations

import logging
import math
import os
from datetime import timedelta
from typing import Iterable, Sequence

import redis
from rq import Queue
from rq.serializers import JSONSerializer

from notifier import channel_specs, lanes
from notifier.config import Settings
from notifier.db import session_scope
from notifier.redis_url import connect
from workers.throttle import messages_per_second

log = logging.getLogger("workers.queues")

# `alerts` first: a worker listening on all queues takes fan-out before bulk mail.
QUEUES = ("alerts", *channel_specs.NAMES)  # then one queue per channel
# Each queue has an emergency twin (`emergency-sms`…) holding the work of Severe and Extreme
# alerts (notifier/lanes.py). A Tocsin worker asked for a queue serves its twin too, and every
# emergency queue before any routine one (`with_twins`), so emergency work never waits in line
# behind routine work; a routine job already running gives way (workers/lane.py).
EMERGENCY_PREFIX = "emergency-"
EMERGENCY_QUEUES = tuple(EMERGENCY_PREFIX + name for name in QUEUES)
ALL_QUEUES = EMERGENCY_QUEUES + QUEUES

# Jobs are named by dotted path so this module never imports the job code (and its channels).
FAN_OUT = "workers.jobs.fan_out_alert"
CANCEL_NOTICE = "workers.jobs.announce_cancel"
DELIVER = "workers.jobs.deliver_batch"
INBOX_REPLY = "workers.inbox_jobs.send_inbox_reply"  # a dispatcher's answer to one text

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
    """Return the RQ queue `name` (one of QUEUES or its emergency twin); raise ValueError for any
    other name."""
    if name not in ALL_QUEUES:
        raise ValueError(f"unknown queue {name!r}; queues are {', '.join(QUEUES)} "
                         f"and their emergency twins ({EMERGENCY_PREFIX}sms…)")
    return Queue(name, connection=connection or redis_connection(settings), serializer=SERIALIZER)


def is_emergency_queue(name: str) -> bool:
    return name in EMERGENCY_QUEUES


def lane_queue(name: str, emergency: bool) -> str:
    """The queue of routine queue `name` in a lane: its emergency twin, or itself."""
    return EMERGENCY_PREFIX + name if emergency else name


def with_twins(queues: Sequence) -> list:
    """`queues` (names or RQ Queues) with each routine queue's emergency twin added, and every
    emergency queue first: the order a worker serves them in."""
    if isinstance(queues, (str, Queue)):
        queues = [queues]
    first, then, seen = [], [], set()
    for item in queues:
        name = item if isinstance(item, str) else item.name
        if name in seen:
            continue
        seen.add(name)
        if is_emergency_queue(name) or name not in QUEUES:
            (first if is_emergency_queue(name) else then).append(item)
            continue
        twin = lane_queue(name, True)
        if twin not in seen:
            seen.add(twin)
            first.append(twin if isinstance(item, str) else Queue(
                twin, connection=item.connection, serializer=item.serializer,
                job_class=item.job_class))
        then.append(item)
    return first + then


def enqueue_fan_out(settings: Settings, alert_id: int, connection: redis.Redis | None = None,
                    emergency: bool | None = None, resumed: bool = False):
    """Queue the fan-out of `alert_id` on `alerts`, or `emergency-alerts` for a Severe or Extreme
    alert (`emergency` None: looked up in the database); return the RQ job.

    The job id is fixed per alert, so queueing it again (a resume after a crash) replaces the
    stored job rather than adding a second one; the fan-out is idempotent in any case. A
    `resumed` fan-out (one that gave way to emergency work) goes to the front of its queue
    under an id of its own: the job still running holds the fixed one.
    """
    alert_id = int(alert_id)
    if emergency is None:
        with session_scope(settings.database_url, readonly=True) as session:
            emergency = lanes.alert_is_emergency(session, alert_id)
    place = {"at_front": True} if resumed else {"job_id": f"fan-out-{alert_id}"}
    return queue(settings, lane_queue("alerts", emergency), connection).enqueue_call(
        FAN_OUT, args=(alert_id,), timeout=FAN_OUT_TIMEOUT, result_ttl=RESULT_TTL,
        description=f"fan out alert {alert_id}" + (" (resumed)" if resumed else ""), **place)


def enqueue_cancel_notice(settings: Settings, alert_id: int) -> bool:
    """Queue the partners' `alert.cancelled` calls of a stopped alert (after its cancel
    committed); False when Redis is unreachable (logged: nothing else depends on it)."""
    try:
        queue(settings, lane_queue("alerts", True)).enqueue_call(
            CANCEL_NOTICE, args=(int(alert_id),), result_ttl=RESULT_TTL,
            job_id=f"cancel-notice-{int(alert_id)}", description=f"announce cancel {alert_id}")
    except (redis.RedisError, OSError) as exc:
        log.warning("cancel notice of alert_id=%s not queued: %s", alert_id, exc)
        return False
    return True


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
                       connection: redis.Redis | None = None,
                       emergency: bool | None = None, at_front: bool = False) -> list:
    """Queue `deliver_batch(channel, ids)` jobs for `delivery_ids`, in chunks of the batch size.

    They go to `channel`'s queue, or to its emergency twin when `emergency`; None (the default)
    looks each delivery's lane up in the database. `delay` (seconds or a timedelta) schedules
    them instead: only a worker started with the scheduler (`python -m workers` does) moves them
    to the queue when due. `at_front` puts them before the work already queued. All jobs of one
    call go to Redis in one round trip. Returns the RQ jobs.
    """
    ids = [int(i) for i in delivery_ids]
    if not ids:
        return []
    if channel not in QUEUES:
        raise ValueError(f"unknown channel {channel!r}")
    if emergency is None:
        with session_scope(settings.database_url, readonly=True) as session:
            urgent = lanes.emergency_deliveries(session, ids)
        return (enqueue_deliveries(settings, channel, [i for i in ids if i in urgent], delay,
                                   connection, emergency=True, at_front=at_front)
                + enqueue_deliveries(settings, channel, [i for i in ids if i not in urgent],
                                     delay, connection, emergency=False, at_front=at_front))
    q = queue(settings, lane_queue(channel, emergency), connection)
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
    datas = [Queue.prepare_data(DELIVER, args=(channel, chunk), at_front=at_front,
                                **_deliver_options(settings, channel, chunk))
             for chunk in chunks]
    if at_front:  # each is pushed to the front in turn: the last pushed runs first
        datas.reverse()
    return q.enqueue_many(datas)


def _deliver_options(settings: Settings, channel: str, chunk: Sequence[int],
                     retry: bool = False) -> dict:
    # A short description: RQ logs it, and a thousand ids would flood the log.
    what = "retry" if retry else "deliver"
    prefix = "job_" if retry else ""
    return {f"{prefix}timeout": job_timeout(settings, channel, len(chunk)),
            "result_ttl": RESULT_TTL,
            "description": f"{what} {len(chunk)} {channel} from #{chunk[0]}"}

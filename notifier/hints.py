"""Redis hints telling senders at once of committed opt-outs and cancels; SQL stays the truth.

Each hint is kept in a key (for a batch that starts later) and published on a channel (for
the batches sending now, which subscribe). A worker looks at these just before each message
leaves (workers/gate.py) and confirms a hint in SQL before it withholds anything. They are
written from the session's `after_commit` event, so a hint never announces what was rolled back
and is in Redis, and pushed to every subscriber, before the request that made it answers (the
resident's STOP confirmation, the dispatcher's cancel). A hint that cannot be written (Redis
down) only slows the stop to the worker's SQL poll (workers/gate.py).

Sessions carry the Redis URL in `session.info[SESSION_INFO_KEY]` (set by
notifier.db.session_factory); a session without it publishes nothing.
"""
from __future__ import annotations

import json
import logging
import os
import time

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session

from notifier.redis_url import connect

log = logging.getLogger("notifier.hints")

SESSION_INFO_KEY = "tocsin.redis_url"  # where a session keeps the Redis URL it publishes to
# Longer than any batch lives (outage retries stop after a day; a retry re-checks SQL at claim).
KEEP_SECONDS = 2 * 24 * 3600
_STAGED = "tocsin.hints"
_connections: dict[tuple[int, str], redis.Redis] = {}


def opt_out_key(channel: str) -> str:
    """Sorted set of addresses that opted out of `channel` lately, scored by unix time."""
    return f"tocsin:opt-outs:{channel}"


def cancelled_key(alert_id: int) -> str:
    """Present while alert `alert_id` is cancelled (and for KEEP_SECONDS)."""
    return f"tocsin:cancelled:{alert_id}"


def stops_channel(db: int) -> str:
    """The pub/sub channel announcing every hint; pub/sub ignores database numbers, so the
    Redis database's number is part of the name."""
    return f"tocsin:stops:{db}"


def read_announcement(data: bytes | str) -> tuple:
    """("opt-out", channel, address) or ("cancel", alert_id) from a STOPS channel message;
    () for anything else."""
    try:
        hint = tuple(json.loads(data))
    except (ValueError, TypeError):
        return ()
    if len(hint) == 3 and hint[0] == "opt-out" or len(hint) == 2 and hint[0] == "cancel":
        return hint
    return ()


def note_opt_out(session: Session, address: str, channel: str) -> None:
    """Announce, once `session` commits, that `address` opted out of `channel`."""
    session.info.setdefault(_STAGED, []).append(("opt-out", channel, address))


def note_cancel(session: Session, alert_id: int) -> None:
    """Announce, once `session` commits, that alert `alert_id` is cancelled."""
    session.info.setdefault(_STAGED, []).append(("cancel", alert_id))


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    staged = session.info.pop(_STAGED, None)
    url = session.info.get(SESSION_INFO_KEY)
    if not staged or not url:
        return
    now = time.time()
    try:
        conn = _connection(url)
        channel = stops_channel(conn.connection_pool.connection_kwargs.get("db", 0))
        pipe = conn.pipeline(transaction=False)
        for hint in staged:
            if hint[0] == "opt-out":
                key = opt_out_key(hint[1])
                pipe.zadd(key, {hint[2]: now})
                pipe.zremrangebyscore(key, "-inf", now - KEEP_SECONDS)
                pipe.expire(key, KEEP_SECONDS)
            else:
                pipe.set(cancelled_key(hint[1]), 1, ex=KEEP_SECONDS)
        # After the keys: a batch that subscribed too late for this message finds the key
        # when it reads them once subscribed.
        for hint in staged:
            pipe.publish(channel, json.dumps(hint))
        pipe.execute()
    except redis.RedisError as exc:
        # Committed all the same: workers see it by their SQL poll, a second or so later.
        log.warning("could not publish %d stop hint(s): %s", len(staged), exc)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_STAGED, None)


def _connection(url: str) -> redis.Redis:
    key = (os.getpid(), url)  # a connection pool does not survive a fork
    conn = _connections.get(key)
    if conn is None:
        # Short timeouts: a dead Redis must not hold up a resident's STOP reply for long.
        conn = _connections[key] = connect(url, socket_timeout=2, socket_connect_timeout=2)
    return conn

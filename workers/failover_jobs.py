"""Failover from the worker and the status callback: ask notifier.failover, queue what it made.

Both callers write the failover deliveries in the transaction that fails the original, and
queue them only after it commits, so a worker never looks for a row it cannot see yet; a
queue that is down leaves them `pending`, which `python -m notifier resume` queues.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Iterable

from redis.exceptions import RedisError

from channels.base import ChannelError
from channels.registry import channel_for
from channels.twilio_client import failover_kind
from notifier import failover
from notifier.config import Settings
from workers.queues import enqueue_deliveries

log = logging.getLogger("workers.failover")


def available_channels(settings: Settings) -> set[str]:
    """The resident channels this deployment can send on (as the fan-out decides)."""
    found = {c for c in failover.RESIDENT_CHANNELS if channel_for(c, settings) is not None}
    if not settings.is_sandboxed("voice") and not settings.twilio_from_number:
        # A Messaging Service sends texts only: a call would fail for want of a caller ID.
        found.discard("voice")
    return found


def failing_over(outcomes: Iterable) -> list[failover.Failed]:
    """The permanent failures among a batch's `outcomes` that say what the address is."""
    return [failover.Failed(o.delivery_id, o.failover) for o in outcomes
            if isinstance(o, ChannelError) and o.permanent and o.failover
            and o.delivery_id is not None]


def fail_over(session, settings: Settings, failed: Iterable[failover.Failed],
              now: datetime) -> list[tuple[int, str]]:
    """Insert the failover deliveries of `failed` in `session`; return (id, channel) to queue."""
    failed = list(failed)
    if not failed:
        return []
    made = failover.fail_over(session, failed, settings, now, available_channels(settings))
    if made:
        log.info("failover: %d deliveries to another channel", len(made))
    return made


def after_callback(session, settings: Settings, delivery_id: int, error_code: str | None,
                   now: datetime) -> list[tuple[int, str]]:
    """Fail over a delivery a status callback reported undelivered or failed with
    `error_code` (Twilio 30006 after `sent`); [] when the code says nothing of the number."""
    kind = failover_kind(error_code)
    if kind is None:
        return []
    return fail_over(session, settings, [failover.Failed(delivery_id, kind)], now)


def enqueue(settings: Settings, made: list[tuple[int, str]], connection=None) -> None:
    """Queue failover deliveries (after their transaction committed)."""
    by_channel: dict[str, list[int]] = {}
    for delivery_id, channel in made:
        by_channel.setdefault(channel, []).append(delivery_id)
    for channel, ids in by_channel.items():
        try:
            enqueue_deliveries(settings, channel, ids, connection=connection)
        except (RedisError, OSError) as exc:
            log.warning("failover: %d %s deliveries not queued (%s); resume will", len(ids),
                        channel, exc)

"""A broadcast delivery's real target, found again from its masked address (notifier.broadcast)."""
from __future__ import annotations

from channels.base import ChannelError
from notifier import broadcast


def target_of(session, settings, delivery, alert, cache: dict, channel: str):
    """The configured Target `delivery.address` masks (None: removed since the fan-out);
    the batch's targets are listed once."""
    key = ("targets", channel, alert.id)
    if key not in cache:
        cache[key] = {t.address: t for t in broadcast.targets(session, alert, settings, channel)}
    return cache[key].get(delivery.address)


def target_removed() -> ChannelError:
    return ChannelError("this target is no longer configured", permanent=True,
                        code="target_removed")

"""Which channel object sends for a channel name, given the settings."""
from __future__ import annotations

from typing import Awaitable, Callable

from channels.base import Channel
from channels.email import EmailChannel
from channels.sandbox import SandboxChannel
from channels.sms import SmsChannel
from channels.voice import VoiceChannel
from notifier.config import CHANNELS, Settings


def channel_for(name: str, settings: Settings,
                pace: Callable[[int], Awaitable[None]] | None = None) -> Channel | None:
    """Return the channel that sends `name` messages, or None when it is not available.

    The sandbox wins whenever `settings.is_sandboxed(name)`. None means the channel has no
    implementation yet (social): the worker marks those deliveries skipped.
    """
    if name not in CHANNELS:
        return None
    concurrency = settings.concurrency.get(name, 10)
    per_second = settings.per_second.get(name, 0)
    if settings.is_sandboxed(name):
        return SandboxChannel(name, concurrency=concurrency, per_second=per_second, pace=pace)
    if name == "sms":
        return SmsChannel(settings, concurrency=concurrency, per_second=per_second, pace=pace,
                          timeout=settings.twilio_timeout)
    if name == "voice":
        return VoiceChannel(settings, concurrency=concurrency, per_second=per_second, pace=pace,
                          timeout=settings.twilio_timeout)
    if name == "email":
        return EmailChannel(settings, concurrency=concurrency, per_second=per_second, pace=pace)
    return None

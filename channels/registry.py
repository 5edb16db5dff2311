"""The channels that send, one line each; which one sends a channel's messages under the settings.

What a channel *is* (kind, address, callbacks, defaults, what configures it) is declared in
notifier/channel_specs.py, where the domain's rules read it; a test keeps both tables in step.
"""
from __future__ import annotations

from typing import Awaitable, Callable

from channels import email, sms, voice
from channels.base import Channel, Compose, Implementation, OutboundMessage
from channels.sandbox import SandboxChannel
from notifier import channel_specs
from notifier.config import Settings
from notifier.render import render_sms

IMPLEMENTATIONS: dict[str, Implementation] = {c.name: c for c in (
    sms.CHANNEL,
    voice.CHANNEL,
    email.CHANNEL,
)}


def channel_for(name: str, settings: Settings,
                pace: Callable[[int], Awaitable[None]] | None = None) -> Channel | None:
    """Return the channel that sends `name` messages, or None when it is not available.

    The sandbox wins whenever `settings.is_sandboxed(name)`. None means the channel has no
    implementation yet (social): the worker marks those deliveries skipped.
    """
    if name not in channel_specs.BY_NAME:
        return None
    concurrency = settings.concurrency.get(name, 10)
    per_second = settings.per_second.get(name, 0)
    if settings.is_sandboxed(name):
        return SandboxChannel(name, concurrency=concurrency, per_second=per_second, pace=pace)
    found = IMPLEMENTATIONS.get(name)
    return found.build(settings, concurrency, per_second, pace) if found else None


def compose_for(name: str) -> Compose:
    """How a delivery of channel `name` is written (the alert's text for one without a module
    yet, which only the sandbox records)."""
    found = IMPLEMENTATIONS.get(name)
    return found.compose if found else _text_only


def _text_only(settings, delivery, alert, now, cache: dict) -> OutboundMessage:
    key = ("text", delivery.alert_id, delivery.language)
    if key not in cache:
        cache[key] = render_sms(alert, delivery.language, settings)
    return OutboundMessage(delivery_id=delivery.id, to=delivery.address, body=cache[key],
                           language=delivery.language)

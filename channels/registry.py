"""The channels that send, one line each; which one sends a channel's messages under the settings.

What a channel *is* (kind, address, callbacks, defaults, what configures it) is declared in
notifier/channel_specs.py, where the domain's rules read it; a test keeps both tables in step.
"""
from __future__ import annotations

from typing import Awaitable, Callable

from channels import email, sms, social, voice, webhook
from channels.base import Channel, Compose, Implementation
from channels.sandbox import SandboxChannel
from notifier import channel_specs
from notifier.config import Settings

IMPLEMENTATIONS: dict[str, Implementation] = {c.name: c for c in (
    sms.CHANNEL,
    voice.CHANNEL,
    email.CHANNEL,
    social.CHANNEL,
    webhook.CHANNEL,
)}


def channel_for(name: str, settings: Settings,
                pace: Callable[[int], Awaitable[None]] | None = None) -> Channel | None:
    """Return the channel that sends `name` messages, or None when it is not available.

    The sandbox wins whenever `settings.is_sandboxed(name)`. None means the channel has no
    implementation: the worker marks those deliveries skipped.
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
    """How a delivery of channel `name` is written (KeyError for a name no module has)."""
    return IMPLEMENTATIONS[name].compose

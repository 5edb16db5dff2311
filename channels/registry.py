"""Which channel sends a channel's messages under the settings.

The one registry is notifier/channel_specs.py's SPECS (what each channel is, where the domain's
rules read it); the channel named `x` there is the module `channels/x.py`, whose `CHANNEL` says
how it writes and sends. Adding a channel is that module and one line in SPECS.
"""
from __future__ import annotations

import importlib
from typing import Awaitable, Callable

from channels.base import Channel, Compose, Implementation
from channels.sandbox import SandboxChannel
from notifier import channel_specs
from notifier.config import Settings

IMPLEMENTATIONS: dict[str, Implementation] = {
    name: importlib.import_module(f"channels.{name}").CHANNEL for name in channel_specs.NAMES}


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

"""The sandbox channel: accepts every message at once and sends nothing (SANDBOX=1, no credentials)."""
from __future__ import annotations

import uuid
from typing import Awaitable, Callable

from channels.base import Channel, OutboundMessage, Receipt

# The provider id of every recorded message starts so: the alert page tells by it which
# deliveries were simulated, whatever the settings say now.
PROVIDER_ID_PREFIX = "SB"


def is_simulated_id(provider_id: str | None) -> bool:
    """True for the provider id of a message the sandbox recorded (nobody received it)."""
    return bool(provider_id) and provider_id.startswith(PROVIDER_ID_PREFIX)


class SandboxChannel(Channel):
    """Stands in for any channel by name; the worker records the outbox (SandboxMessage) rows.

    Receipts are `simulated`, so the worker knows no provider will call back and can move the
    delivery on by itself.
    """

    simulated = True

    def __init__(self, name: str, concurrency: int = 10, per_second: float = 0,
                 pace: Callable[[int], Awaitable[None]] | None = None):
        super().__init__(concurrency=concurrency, per_second=per_second, pace=pace)
        self.name = name

    async def send_one(self, session, message: OutboundMessage) -> Receipt:
        """Return a simulated Receipt with an `SB…` id; never raises, never does I/O."""
        return Receipt(message.delivery_id, PROVIDER_ID_PREFIX + uuid.uuid4().hex, simulated=True)

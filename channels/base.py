"""The channel contract: `send_batch(messages) -> list[Receipt | ChannelError]`, sent concurrently."""
from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Sequence, Union

import uvloop


@dataclass(frozen=True)
class OutboundMessage:
    """One rendered message for one resident; `delivery_id` ties the outcome back."""

    delivery_id: int
    to: str
    body: str
    language: str
    subject: str | None = None
    html: str | None = None
    headers: dict = field(default_factory=dict)
    # Where the provider reports progress (Twilio StatusCallback); None for channels without one.
    status_callback: str | None = None
    # Extra per-channel data (e.g. the voice TwiML URL); channels ignore keys they do not know.
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Receipt:
    """The provider accepted the message and named it `provider_id`."""

    delivery_id: int
    provider_id: str
    # True when the channel only recorded the message (sandbox) and no provider will call back.
    simulated: bool = False


@dataclass(frozen=True)
class Withheld:
    """The message was never handed over: the caller's `hold` named `reason` just before (or
    the channel did: an SMS whose alert expired while it waited for the rate)."""

    delivery_id: int
    reason: str


class ChannelError(Exception):
    """The provider refused or could not be reached.

    `permanent` errors fail the delivery; temporary ones are retried, after `retry_after`
    seconds when the provider said so.
    """

    def __init__(self, message: str, *, permanent: bool, code: str | None = None,
                 retry_after: float | None = None, delivery_id: int | None = None,
                 opt_out: bool = False, failover: str | None = None, outage: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after
        self.delivery_id = delivery_id
        # The provider says the address refuses this channel (Twilio 21610): opt it out.
        self.opt_out = opt_out
        # What the failure says of the address (notifier.failover: a landline, a bad
        # number), so another of the resident's channels may still reach them.
        self.failover = failover
        # The provider is unreachable, overloaded or broken (no answer, 429, 5xx): nothing is
        # wrong with the message, so it waits out the incident instead of running out of tries.
        self.outage = outage

    def for_delivery(self, delivery_id: int | None) -> "ChannelError":
        """A new error like this one, about `delivery_id`.

        An outcome belongs to one message: a channel may raise one error object for many
        messages (a server that is down), and writing each message's id onto that shared
        object left all but the last without an outcome.
        """
        return ChannelError(self.message, permanent=self.permanent, code=self.code,
                            retry_after=self.retry_after, delivery_id=delivery_id,
                            opt_out=self.opt_out, failover=self.failover, outage=self.outage)

    def __repr__(self) -> str:
        kind = "permanent" if self.permanent else "temporary"
        return f"ChannelError({self.message!r}, {kind}, code={self.code!r})"


Outcome = Union[Receipt, ChannelError, Withheld]
# hold(message, final) -> a reason not to send it, or None. Asked before pacing (final=False:
# what is already known, no I/O) and again just before hand-over (final=True), when it may
# answer with an awaitable instead, so that its look-up does not block the event loop.
Hold = Callable[[OutboundMessage, bool], Union[str, None, Awaitable[Union[str, None]]]]


class Channel:
    """Base for channels. Subclasses implement `send_one` (async) or override `send_batch`."""

    name: str = ""
    simulated: bool = False

    def __init__(self, concurrency: int = 10, per_second: float = 0,
                 pace: Callable[[int], Awaitable[None]] | None = None):
        self.concurrency = max(1, concurrency)
        self.per_second = per_second
        # `pace(cost)` waits for the shared (cross-worker) rate limit; None means no limit.
        self.pace = pace
        # The provider account's limit on calls in flight across workers (workers/slots.py):
        # `slots.batch()` gives a batch `await acquire() -> token`, `release(token)` and
        # `close()`. None: only this worker's `concurrency` limits them.
        self.slots = None

    def send_batch(self, messages: Sequence[OutboundMessage],
                   on_outcome: Callable[[Outcome], None] | None = None,
                   hold: Hold | None = None) -> list[Outcome]:
        """Send all `messages` concurrently; return one outcome per message, in order.

        `on_outcome`, when given, is called with each outcome as soon as it is known, so the
        caller can record it at once: a crash then resends only what was in flight.
        `hold`, when given, may withhold a message up to the moment it would be handed over
        (a `Withheld` outcome): a STOP or a cancel that came in while the batch was sending.
        """
        if not messages:
            return []
        # uvloop roughly halves the event loop's CPU per provider call, and a batch at
        # 100-300 ms provider latency is bound by how fast the loop turns requests around.
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(self.send_batch_async(messages, on_outcome, hold))

    async def send_batch_async(self, messages: Sequence[OutboundMessage],
                               on_outcome: Callable[[Outcome], None] | None = None,
                               hold: Hold | None = None) -> list[Outcome]:
        async with self.session() as session:
            limit = asyncio.Semaphore(self.concurrency)
            slots = self.slots.batch() if self.slots is not None else None

            async def one(message: OutboundMessage) -> Outcome:
                async with limit:
                    # Asked before pacing too, so a cancelled alert's messages spend none of
                    # the shared rate; asked again after, as pacing may have waited long.
                    reason = hold(message, False) if hold is not None else None
                    if reason is None and self.pace is not None:
                        await self.pace(self.pace_cost(message))
                    if reason is None and hold is not None:
                        reason = hold(message, True)
                        if inspect.isawaitable(reason):
                            reason = await reason
                    if reason is not None:
                        outcome = Withheld(message.delivery_id, reason)
                    elif slots is None:
                        outcome = await self._send(session, message)
                    else:
                        token = await slots.acquire()
                        try:
                            outcome = await self._send(session, message)
                        finally:
                            slots.release(token)
                if on_outcome is not None:
                    on_outcome(outcome)
                return outcome

            try:
                return list(await asyncio.gather(*(one(m) for m in messages)))
            finally:
                if slots is not None:
                    slots.close()
                # A hold may keep a connection for its look-ups (workers/gate.py).
                closer = getattr(hold, "aclose", None)
                if closer is not None:
                    await closer()

    async def _send(self, session, message: OutboundMessage) -> Outcome:
        try:
            return await self.send_one(session, message)
        except ChannelError as exc:
            return exc.for_delivery(message.delivery_id)

    def pace_cost(self, message: OutboundMessage) -> int:
        """How many permits of the shared rate `message` takes: one, unless the provider
        counts otherwise (SMS: segments)."""
        return 1

    def session(self):
        """An async context manager for per-batch resources (HTTP or SMTP connections)."""
        return _NoSession()

    async def send_one(self, session, message: OutboundMessage) -> Receipt:
        raise NotImplementedError


class _NoSession:
    async def __aenter__(self):
        return None

    async def __aexit__(self, *exc):
        return False


# compose(session, settings, delivery, alert, now, cache) -> the delivery's OutboundMessage,
# written while the worker still holds its read session (closed before anything is sent);
# `cache` is one dict per batch, for what readers of one language share (the text, rendered once).
Compose = Callable[..., OutboundMessage]
# build(settings, concurrency, per_second, pace) -> the channel that really sends.
Build = Callable[..., Channel]


@dataclass(frozen=True)
class Implementation:
    """One channel module's entry in channels/registry.py: its name (a notifier.channel_specs
    name), how it writes one delivery's message, and how it is built from the settings."""

    name: str
    compose: Compose
    build: Build

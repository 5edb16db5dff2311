"""The last look before a message is handed over: opt-outs and cancels committed since the claim.

A batch is checked against the SQL ledger when it is claimed; a STOP or a cancel committed
while it sends reaches it here. Just before each hand-over the gate reads the hints that
notifier.hints writes after each commit, from Redis, without blocking the event loop: every
message waits for a read that *starts after it asked*, and one pipelined read serves all the
messages that asked meanwhile (a per-message blocking round trip cost a fifth of a worker's
throughput). A hint is confirmed in SQL before it withholds anything (SQL is the truth, and START
may have lifted an opt-out since). Every POLL_SECONDS the batch's addresses and alerts are read
again from SQL, so a hint that was never written (Redis down when the STOP came) delays the stop
by at most that long.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

import redis
import redis.asyncio
from sqlalchemy import select

from channels.base import OutboundMessage
from notifier import alerts, hints, subscriptions
from notifier.db import session_scope
from notifier.deliveries import Claimed
from notifier.models import Alert
from notifier.redis_url import connect_async

log = logging.getLogger("workers.gate")

OPTED_OUT, CANCELLED = "opted out", "cancelled"
POLL_SECONDS = 1.0


class Gate:
    """`hold` for Channel.send_batch: names why a claimed message must not go, or None."""

    def __init__(self, database_url: str, channel: str, claimed: dict[int, Claimed],
                 redis_url: str, clock: Callable[[], float] = time.monotonic):
        self.database_url = database_url
        self.channel = channel
        self.claimed = claimed
        self.redis_url = redis_url
        self.clock = clock
        self.opted_out: set[str] = set()
        self.cancelled: set[int] = set()
        self._polled = clock()
        # The messages waiting for the next hint read, and the future that read resolves.
        self._waiting: tuple[list[Claimed], asyncio.Future] | None = None
        self._reader: asyncio.Task | None = None
        self._connection: redis.asyncio.Redis | None = None

    def __call__(self, message: OutboundMessage, final: bool) -> str | None | Awaitable:
        """Before pacing (`final` False): what is known already, at once. Just before the
        hand-over: an awaitable of the reason, after a hint read that began after this call."""
        claimed = self.claimed.get(message.delivery_id)
        if claimed is None:
            return None
        reason = self._known(claimed)
        if reason is not None or not final:
            return reason
        if self.clock() - self._polled >= POLL_SECONDS:
            self._poll()
            return self._known(claimed)
        return self._after_fresh_hints(claimed)

    async def _after_fresh_hints(self, claimed: Claimed) -> str | None:
        if self._waiting is None:
            self._waiting = ([], asyncio.get_running_loop().create_future())
        waiting, read = self._waiting
        waiting.append(claimed)
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_while_asked())
        await read
        return self._known(claimed)

    async def _read_while_asked(self) -> None:
        """One pipelined hint read per group of waiting messages, until none waits."""
        if self._connection is None:  # one connection for the batch: aclose() ends it
            self._connection = connect_async(self.redis_url)
        try:
            while self._waiting is not None:
                (waiting, read), self._waiting = self._waiting, None
                try:
                    await self._ask(self._connection, waiting)
                except Exception as exc:  # the waiting messages must not go unchecked
                    read.set_exception(exc)
                else:
                    read.set_result(None)
        finally:
            # No await between the last look at `_waiting` and this: a message asking from
            # now on starts a reader of its own instead of waiting on this one.
            self._reader = None

    async def aclose(self) -> None:
        """Close the hint connection; the channel calls this when the batch is done."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.aclose()

    def _known(self, claimed: Claimed) -> str | None:
        if claimed.alert_id in self.cancelled:
            return CANCELLED
        if claimed.address in self.opted_out:
            return OPTED_OUT
        return None

    async def _ask(self, connection, waiting: list[Claimed]) -> None:
        """Read the waiting messages' hints; confirm in SQL whatever they announce."""
        addresses = sorted({c.address for c in waiting if c.address})
        alert_ids = sorted({c.alert_id for c in waiting})
        try:
            async with connection.pipeline(transaction=False) as pipe:
                for address in addresses:
                    pipe.zscore(hints.opt_out_key(self.channel), address)
                for alert_id in alert_ids:
                    pipe.exists(hints.cancelled_key(alert_id))
                answers = await pipe.execute()
        except (redis.RedisError, OSError) as exc:
            # No hints to be had: ask the database about these very messages instead.
            log.warning("%s: stop hints unreadable (%s); checking SQL", self.channel, exc)
            answers = [0.0] * len(addresses) + [1] * len(alert_ids)
        opted = {a for a, score in zip(addresses, answers) if score is not None}
        cancelled = {i for i, hit in zip(alert_ids, answers[len(addresses):]) if hit}
        if opted or cancelled:
            self._confirm(opted, cancelled)

    def _poll(self) -> None:
        self._polled = self.clock()
        self._confirm({c.address for c in self.claimed.values() if c.address},
                      {c.alert_id for c in self.claimed.values()})

    def _confirm(self, addresses: set[str], alert_ids: set[int]) -> None:
        with session_scope(self.database_url, readonly=True) as session:
            if addresses:
                self.opted_out |= subscriptions.opted_out(session, addresses, self.channel)
            if alert_ids:
                self.cancelled.update(session.scalars(select(Alert.id).where(
                    Alert.id.in_(alert_ids), Alert.state == alerts.CANCELLED)))

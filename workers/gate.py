"""The last look before a message is handed over: opt-outs and cancels committed since the claim.

A batch is checked against the SQL ledger when it is claimed; a STOP or a cancel committed
while it sends reaches it here. notifier.hints publishes each one on a Redis channel after the
commit, before the request that made it answers. When the batch starts the gate subscribes, then
reads the hint keys once (what was committed between the claim and the subscription); just
before each hand-over it takes in whatever the subscription has received, from the socket,
without waiting: no round trip per message (a hint read per group of messages cost a worker
about 65 µs of CPU per message, a sixth of it). Redis writes a published message to its
subscribers in the same turn as it answers the publisher, so once a STOP is confirmed to the
resident it is in the worker's socket (on one host; from another, on the wire at that moment).
A hint is confirmed in SQL before it withholds anything (SQL is the truth, and START may have
lifted an opt-out since); only the messages it concerns wait for that. Every POLL_SECONDS the
unsent messages' addresses and alerts are read again from SQL, so a hint that was never
published (Redis down when the STOP came) delays the stop by about that long at most; with no
subscription (Redis down now, or the connection lost) each message waits for a SQL check.
SQL runs in a thread and the socket is only polled: the event loop never waits here.
"""
from __future__ import annotations

import asyncio
import logging
import time
from select import POLLERR, POLLHUP, POLLIN, poll
from typing import Awaitable, Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import select

from channels.base import OutboundMessage
from notifier import alerts, hints, subscriptions
from notifier.db import session_scope
from notifier.deliveries import Claimed
from notifier.models import Alert
from notifier.redis_url import connect

log = logging.getLogger("workers.gate")

OPTED_OUT, CANCELLED = "opted out", "cancelled"
POLL_SECONDS = 1.0
REDIS_TIMEOUT = 2.0  # subscribing and the one key read; the socket is never waited on after
CLIENT_NAME = "tocsin-gate"  # how a batch's subscription shows in Redis' CLIENT LIST


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
        self._addresses = {c.address for c in claimed.values() if c.address}
        self._alert_ids = {c.alert_id for c in claimed.values()}
        self._unsent = set(claimed)  # what the SQL poll still has to look at
        self._polled = clock()
        self._poll: asyncio.Task | None = None
        # Subscribing and the first key read run in a thread; then `_feed` is the live
        # subscription, or None when Redis could not be had (each message then asks SQL).
        self._opening: asyncio.Task | None = None
        self._feed = self._client = None
        self._readable = None  # the subscription's socket, to poll
        # Hints heard and not yet confirmed in SQL → the number of the hearing.
        self._heard_addresses: dict[str, int] = {}
        self._heard_alerts: dict[int, int] = {}
        self._hearings = 0
        # The messages waiting for the next check, and the future that check resolves.
        self._waiting: tuple[list[Claimed], asyncio.Future] | None = None
        self._checker: asyncio.Task | None = None

    def __call__(self, message: OutboundMessage, final: bool) -> str | None | Awaitable:
        """Before pacing (`final` False): what is known already, at once. Just before the
        hand-over: the reason, or an awaitable of it when SQL must be asked first."""
        claimed = self.claimed.get(message.delivery_id)
        if claimed is None:
            return None
        if self._opening is None:
            self._open_soon()
        reason = self._known(claimed)
        if reason is not None or not final:
            return reason
        self._listen()
        if self._poll is None and self.clock() - self._polled >= POLL_SECONDS:
            self._polled = self.clock()
            self._poll = asyncio.create_task(self._poll_sql())
            return self._after(self._poll, claimed)
        if self._feed is None or claimed.address in self._heard_addresses \
                or claimed.alert_id in self._heard_alerts:
            return self._after_check(claimed)
        self._unsent.discard(claimed.id)
        return None

    def _known(self, claimed: Claimed) -> str | None:
        if claimed.alert_id in self.cancelled:
            return CANCELLED
        if claimed.address in self.opted_out:
            return OPTED_OUT
        return None

    async def _after(self, task: asyncio.Task, claimed: Claimed) -> str | None:
        await task
        self._unsent.discard(claimed.id)
        return self._known(claimed)

    # -- the subscription -------------------------------------------------------------------

    def _open_soon(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # asked outside the batch's event loop: open at the next ask
            return
        self._opening = loop.create_task(self._open())

    async def _open(self) -> None:
        self._client, self._feed, opted, cancelled = await asyncio.to_thread(self._subscribe)
        self.opted_out |= opted
        self.cancelled |= cancelled
        sock = getattr(self._feed.connection, "_sock", None) if self._feed else None
        if sock is not None:
            self._readable = poll()
            self._readable.register(sock, POLLIN | POLLERR | POLLHUP)

    def _subscribe(self):
        """In a thread: subscribe, then read the keys of what came before; confirm in SQL."""
        # No retries: a connection lost and quietly made again would miss what was said
        # meanwhile; a lost subscription is given up and SQL asked instead.
        client = connect(self.redis_url, socket_timeout=REDIS_TIMEOUT,
                         socket_connect_timeout=REDIS_TIMEOUT,
                         retry=Retry(NoBackoff(), 0), client_name=CLIENT_NAME)
        feed = client.pubsub()
        try:
            db = client.connection_pool.connection_kwargs.get("db", 0)
            feed.subscribe(hints.stops_channel(db))
            # Redis confirms the subscription: from then on it sends us every hint published.
            if feed.get_message(timeout=REDIS_TIMEOUT) is None:
                raise redis.TimeoutError("no confirmation of the subscription")
            opted, cancelled = self._read_keys(client)
            client.connection_pool.disconnect(inuse_connections=False)  # all but the feed's
        except (redis.RedisError, OSError) as exc:
            log.warning("%s: no stop hints (%s); checking each message in SQL", self.channel, exc)
            feed.close()
            client.close()
            return None, None, set(), set()
        return (client, feed) + self._confirm(opted, cancelled)

    def _read_keys(self, client: redis.Redis) -> tuple[set[str], set[int]]:
        addresses = sorted(self._addresses)
        key = hints.opt_out_key(self.channel)
        try:
            scores = client.zmscore(key, addresses) if addresses else []
        except redis.ResponseError:  # before Redis 6.2: one ZSCORE per address
            pipe = client.pipeline(transaction=False)
            for address in addresses:
                pipe.zscore(key, address)
            scores = pipe.execute()
        return ({a for a, score in zip(addresses, scores) if score is not None},
                {i for i in self._alert_ids if client.exists(hints.cancelled_key(i))})

    def _listen(self) -> None:
        """Take in the hints the subscription has received, without waiting for any."""
        if self._feed is None:
            return
        # Once a look has emptied redis-py's buffer, nothing new can come but through the
        # socket: a zero-timeout poll of it (a microsecond) spares the full look (ten).
        if self._readable is not None and not self._readable.poll(0):
            return
        connection = self._feed.connection
        try:
            # The connection itself, not get_message: that would reconnect on an error.
            while connection.can_read(timeout=0):
                message = self._feed.handle_message(connection.read_response(push_request=True))
                if message and message["type"] == "message":
                    self._hear(hints.read_announcement(message["data"]))
        except (redis.RedisError, OSError) as exc:
            log.warning("%s: stop hints lost (%s); checking each message in SQL",
                        self.channel, exc)
            self._close_feed()

    def _hear(self, hint: tuple) -> None:
        self._hearings += 1
        if hint[:2] == ("opt-out", self.channel) and hint[2] in self._addresses \
                and hint[2] not in self.opted_out:
            self._heard_addresses[hint[2]] = self._hearings
        elif hint[:1] == ("cancel",) and hint[1] in self._alert_ids \
                and hint[1] not in self.cancelled:
            self._heard_alerts[hint[1]] = self._hearings

    def _close_feed(self) -> None:
        feed, client, self._feed, self._client = self._feed, self._client, None, None
        self._readable = None
        if feed is not None:
            feed.close()
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """End the subscription; the channel calls this when the batch is done."""
        for task in (self._opening, self._poll):
            if task is not None:
                try:
                    await task
                except Exception:  # already raised to the message that waited for it
                    pass
        self._opening = self._poll = None
        self._close_feed()

    # -- checks in SQL ----------------------------------------------------------------------

    async def _after_check(self, claimed: Claimed) -> str | None:
        if self._waiting is None:
            self._waiting = ([], asyncio.get_running_loop().create_future())
        waiting, checked = self._waiting
        waiting.append(claimed)
        if self._checker is None:
            self._checker = asyncio.create_task(self._check_while_asked())
        await checked
        self._unsent.discard(claimed.id)
        return self._known(claimed)

    async def _check_while_asked(self) -> None:
        """One check per group of waiting messages, until none waits."""
        try:
            while self._waiting is not None:
                (waiting, checked), self._waiting = self._waiting, None
                try:
                    await self._check(waiting)
                except Exception as exc:  # the waiting messages must not go unchecked
                    checked.set_exception(exc)
                else:
                    checked.set_result(None)
        finally:
            # No await between the last look at `_waiting` and this: a message asking from
            # now on starts a checker of its own instead of waiting on this one.
            self._checker = None

    async def _check(self, waiting: list[Claimed]) -> None:
        """Confirm what was heard; without a subscription, ask SQL about these messages."""
        if self._opening is not None:
            await self._opening
        self._listen()
        heard_addresses, heard_alerts = dict(self._heard_addresses), dict(self._heard_alerts)
        addresses, alert_ids = set(heard_addresses), set(heard_alerts)
        if self._feed is None:
            addresses |= {c.address for c in waiting if c.address}
            alert_ids |= {c.alert_id for c in waiting}
        if addresses or alert_ids:
            await self._apply(addresses, alert_ids)
        # Forget what is confirmed, unless it was heard again meanwhile.
        for heard, confirmed in ((heard_addresses, self._heard_addresses),
                                 (heard_alerts, self._heard_alerts)):
            for key, hearing in heard.items():
                if confirmed.get(key) == hearing:
                    del confirmed[key]

    async def _poll_sql(self) -> None:
        try:
            unsent = [self.claimed[i] for i in self._unsent]
            await self._apply({c.address for c in unsent if c.address},
                              {c.alert_id for c in unsent})
        finally:
            self._poll = None

    async def _apply(self, addresses: set[str], alert_ids: set[int]) -> None:
        opted, cancelled = await asyncio.to_thread(self._confirm, addresses, alert_ids)
        self.opted_out |= opted
        self.cancelled |= cancelled

    def _confirm(self, addresses: set[str], alert_ids: set[int]) -> tuple[set[str], set[int]]:
        """In a thread: which of `addresses` are opted out, which of `alert_ids` cancelled."""
        opted: set[str] = set()
        cancelled: set[int] = set()
        if not addresses and not alert_ids:
            return opted, cancelled
        with session_scope(self.database_url, readonly=True) as session:
            if addresses:
                opted = subscriptions.opted_out(session, addresses, self.channel)
            if alert_ids:
                cancelled = set(session.scalars(select(Alert.id).where(
                    Alert.id.in_(alert_ids), Alert.state == alerts.CANCELLED)))
        return opted, cancelled

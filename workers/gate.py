"""The last look before a message is handed over: opt-outs and cancels committed since the claim.

A batch is checked against the SQL ledger when it is claimed; a STOP or a cancel committed
while it sends reaches it here. Per message one Redis round trip reads the hints that
notifier.hints writes after each commit; a hint is confirmed in SQL before it withholds
anything (SQL is the truth, and START may have lifted an opt-out since). Every POLL_SECONDS
the batch's addresses and alerts are read again from SQL, so a hint that was never written
(Redis down when the STOP came) delays the stop by at most that long.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

import redis
from sqlalchemy import select

from channels.base import OutboundMessage
from notifier import alerts, hints, subscriptions
from notifier.db import session_scope
from notifier.deliveries import Claimed
from notifier.models import Alert

log = logging.getLogger("workers.gate")

OPTED_OUT, CANCELLED = "opted out", "cancelled"
POLL_SECONDS = 1.0


class Gate:
    """`hold` for Channel.send_batch: names why a claimed message must not go, or None."""

    def __init__(self, database_url: str, channel: str, claimed: dict[int, Claimed],
                 connection: redis.Redis, clock: Callable[[], float] = time.monotonic):
        self.database_url = database_url
        self.channel = channel
        self.claimed = claimed
        self.connection = connection
        self.clock = clock
        self.opted_out: set[str] = set()
        self.cancelled: set[int] = set()
        self._polled = clock()

    def __call__(self, message: OutboundMessage, final: bool) -> str | None:
        claimed = self.claimed.get(message.delivery_id)
        if claimed is None:
            return None
        reason = self._known(claimed)
        if reason is not None or not final:
            return reason
        if self.clock() - self._polled >= POLL_SECONDS:
            self._poll()
        else:
            self._ask(claimed)
        return self._known(claimed)

    def _known(self, claimed: Claimed) -> str | None:
        if claimed.alert_id in self.cancelled:
            return CANCELLED
        if claimed.address in self.opted_out:
            return OPTED_OUT
        return None

    def _ask(self, claimed: Claimed) -> None:
        """Read this message's hints; confirm in SQL whatever they announce."""
        try:
            pipe = self.connection.pipeline(transaction=False)
            pipe.zscore(hints.opt_out_key(self.channel), claimed.address)
            pipe.exists(hints.cancelled_key(claimed.alert_id))
            opted, cancelled = pipe.execute()
        except redis.RedisError as exc:
            # No hints to be had: ask the database about this very message instead.
            log.warning("%s: stop hints unreadable (%s); checking SQL", self.channel, exc)
            opted, cancelled = 0.0, 1
        if opted is not None or cancelled:
            self._confirm({claimed.address} if opted is not None else set(),
                          {claimed.alert_id} if cancelled else set())

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

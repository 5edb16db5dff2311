"""Outcomes of a delivery batch: buffered from the channel's event loop, written from a thread
of their own, retries scheduled, failovers and hand-backs queued.

Written as they arrive (every ~100 outcomes or ~200 ms), so a crash resends only what was in
flight; a write the database will not take is kept and tried again, never dropped.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from channels.base import ChannelError, Receipt, Withheld
from notifier import alerts as alert_states, deliveries, subscriptions
from notifier.config import Settings
from notifier.db import session_scope
from notifier.masking import mask_address
from notifier.models import Alert, Delivery, SandboxMessage
from workers import failover_jobs
from workers import metrics
from workers.gate import CANCELLED
from workers.lane import YIELDED
from workers.queues import enqueue_deliveries, redis_connection

log = logging.getLogger("workers.recorder")

FLUSH_EVERY = 100
FLUSH_SECONDS = 0.2
# A write of outcomes waits this long for a lock, then is tried again (logged each time) for up
# to RECORD_PATIENCE; only then does the job fail, its unrecorded rows left for the sweep.
RECORD_LOCK_SECONDS = 2
RECORD_PATIENCE = 300

# A provider that is down, overloaded or broken (the channel says so: ChannelError.outage)
# says nothing about the message itself: keep trying it at the longest delay for a day (an
# expiring alert stops sooner: expired rows are skipped), so an SMTP or Twilio incident longer
# than the retry schedule delays warnings instead of failing them.
OUTAGE_SECONDS = 24 * 3600


def _attempt_limit(exc: ChannelError, delays: Sequence[int]) -> int:
    """How many attempts a delivery failing with `exc` gets before it is `failed`."""
    if exc.outage:
        return len(delays) + OUTAGE_SECONDS // max(1, delays[-1])
    return len(delays)


class Recorder:
    """Buffers outcomes from the channel's event loop and writes them from a thread of its own."""

    def __init__(self, settings: Settings, channel: str, claimed: dict, messages: dict,
                 simulated: bool = False, alert_sent_at: dict | None = None):
        self.settings = settings
        self.channel = channel
        self.claimed = claimed
        self.messages = messages
        self.simulated = simulated
        self.counts = {"sent": 0, "failed": 0, "retry": 0, "skipped": 0, "cancelled": 0,
                       "handed_back": 0}
        # alert id → its send time, for the send latency
        self.alert_sent_at = alert_sent_at or {}
        self.recorded: set[int] = set()
        self._buffer: list = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, name="outcome-recorder", daemon=True)
        self._error: BaseException | None = None
        self._failing_since: float | None = None  # monotonic time writes began to fail

    def start(self) -> None:
        self._thread.start()

    def add(self, outcome) -> None:
        """Called by the channel for each outcome; never blocks the channel's event loop."""
        with self._lock:
            self._buffer.append(outcome)
            full = len(self._buffer) >= FLUSH_EVERY
        if full:
            self._wake.set()

    def stop(self) -> None:
        """Stop the thread and write whatever is still buffered."""
        self._done = True
        self._wake.set()
        self._thread.join()
        if self._error is None:
            self._flush_patiently()
        elif not isinstance(self._error, DBAPIError):
            self.flush()  # what is still buffered may well be written
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while not self._done and self._error is None:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            self._flush_patiently(once=True)

    def _flush_patiently(self, once: bool = False) -> None:
        """Flush; a database that will not take the write (locked, restarting) is tried again
        with the outcomes kept, until it has failed for RECORD_PATIENCE seconds."""
        while True:
            try:
                self.flush()
                self._failing_since = None
                return
            except DBAPIError as exc:
                self._failing_since = self._failing_since or time.monotonic()
                if time.monotonic() - self._failing_since > RECORD_PATIENCE:
                    log.error("%s: outcomes not recorded for %d s; giving up", self.channel,
                              RECORD_PATIENCE)
                    self._error = exc
                    return
                log.warning("%s: outcomes not recorded yet (%s); trying again", self.channel,
                            str(getattr(exc, "orig", exc)).splitlines()[0][:200])
                if once:
                    return
                time.sleep(FLUSH_SECONDS)
            except Exception as exc:  # keep it for stop(): the job must fail loudly
                log.exception("%s: recording outcomes failed", self.channel)
                self._error = exc
                return

    def flush(self) -> None:
        with self._lock:
            outcomes, self._buffer = self._buffer, []
        if not outcomes:
            return
        try:
            self.write(outcomes)
        except DBAPIError:  # nothing was committed: keep them, in order, for the next try
            with self._lock:
                self._buffer[:0] = outcomes
            raise

    def write(self, outcomes: list) -> None:
        """Record `outcomes` in one transaction, then schedule the retries among them."""
        now = _now()
        sent, failed, retries, opt_outs, sandbox = [], [], [], [], []
        skipped, cancelled, handed_back = {}, [], []
        for outcome in outcomes:
            if isinstance(outcome, Receipt):
                sent.append((outcome.delivery_id, outcome.provider_id))
                if outcome.simulated or self.simulated:
                    sandbox.append(outcome)
            elif isinstance(outcome, ChannelError):
                self._sort_error(outcome, now, failed, retries, opt_outs)
            elif isinstance(outcome, Withheld) and outcome.reason == YIELDED:
                handed_back.append(outcome.delivery_id)
            elif isinstance(outcome, Withheld):
                if outcome.reason == CANCELLED:
                    cancelled.append(outcome.delivery_id)
                else:  # opted out (the gate), alert expired (the SMS channel)
                    skipped.setdefault(outcome.reason, []).append(outcome.delivery_id)
        with session_scope(self.settings.database_url,
                           redis_url=self.settings.redis_url) as session:
            session.connection(execution_options={"lock_timeout": RECORD_LOCK_SECONDS})
            deliveries.mark_sent(session, sent, now)
            deliveries.mark_failed(session, failed, now)
            moved = failover_jobs.fail_over(session, self.settings,
                                            failover_jobs.failing_over(outcomes), now)
            deliveries.schedule_retry(session, retries, now)
            for reason, ids in skipped.items():
                deliveries.mark_skipped(session, ids, reason, now)
            deliveries.release(session, handed_back, now)
            # After parking the retries, so a cancel committed meanwhile is seen either here
            # or by the cancel itself (which stops parked rows).
            stopped = self._of_cancelled_alerts(session, [r[0] for r in retries])
            retries = [r for r in retries if r[0] not in stopped]
            deliveries.mark_cancelled(session, cancelled + sorted(stopped), now)
            for address in opt_outs:
                subscriptions.opt_out(session, address, self.channel, "carrier", None, now)
            if sandbox:
                self._record_sandbox(session, sandbox, now)
        self.recorded.update(outcome.delivery_id for outcome in outcomes)
        self.counts["sent"] += len(sent)
        self.counts["failed"] += len(failed)
        self.counts["retry"] += len(retries)
        self.counts["skipped"] += sum(map(len, skipped.values()))
        self.counts["cancelled"] += len(cancelled) + len(stopped)
        if moved:
            self.counts["failover"] = self.counts.get("failover", 0) + len(moved)
            failover_jobs.enqueue(self.settings, moved, redis_connection(self.settings))
        metrics.count_outcomes(self.channel, now, outcomes, {
            "sent": len(sent), "delivered": len(sandbox), "failed": len(failed),
            "retry_wait": len(retries), "skipped": sum(map(len, skipped.values())),
            "cancelled": len(cancelled) + len(stopped)},
            [self.alert_sent_at.get(self.claimed[d].alert_id) for d, _ in sent
             if d in self.claimed])
        self.counts["handed_back"] += len(handed_back)
        if handed_back:  # first in line again once the emergency work is done
            enqueue_deliveries(self.settings, self.channel, handed_back, emergency=False,
                               at_front=True, connection=redis_connection(self.settings))
        if retries:
            wait = max(r[3] for r in retries) - now
            enqueue_deliveries(self.settings, self.channel, [r[0] for r in retries],
                               delay=max(wait, timedelta(seconds=1)),
                               connection=redis_connection(self.settings))

    def _of_cancelled_alerts(self, session, ids: list[int]) -> set[int]:
        """The deliveries among `ids` whose alert is cancelled."""
        alert_ids = {self.claimed[i].alert_id for i in ids if i in self.claimed}
        if not alert_ids:
            return set()
        gone = set(session.scalars(select(Alert.id).where(
            Alert.id.in_(alert_ids), Alert.state == alert_states.CANCELLED)))
        return {i for i in ids if i in self.claimed and self.claimed[i].alert_id in gone}

    def _sort_error(self, exc: ChannelError, now, failed, retries, opt_outs) -> None:
        claimed = self.claimed.get(exc.delivery_id)
        if claimed is None:
            log.error("%s: error for unknown delivery delivery_id=%s: %r", self.channel,
                      exc.delivery_id, exc)
            return
        delays = self.settings.retry_delays
        message = str(exc.message)[:500]
        if exc.permanent or claimed.attempts > _attempt_limit(exc, delays):
            failed.append((claimed.id, exc.code, message))
            if exc.opt_out and claimed.address:
                opt_outs.append(claimed.address)
            log.info("%s delivery failed alert_id=%s delivery_id=%s to=%s code=%s attempts=%d",
                     self.channel, claimed.alert_id, claimed.id, mask_address(claimed.address),
                     exc.code, claimed.attempts)
            return
        delay = delays[min(claimed.attempts, len(delays)) - 1]
        if exc.retry_after:
            delay = max(delay, exc.retry_after)
        # Jitter spreads a wave of retries so they do not hit the provider all at once.
        delay *= 1 + random.uniform(0, 0.25)
        retries.append((claimed.id, exc.code, message, now + timedelta(seconds=delay)))

    def _record_sandbox(self, session, receipts: list, now: datetime) -> None:
        ids = [r.delivery_id for r in receipts]
        for r in receipts:
            m = self.messages.get(r.delivery_id)
            if m is not None:
                session.add(SandboxMessage(at=now, channel=self.channel, to=m.to, subject=m.subject,
                                           body=m.body, delivery_id=m.delivery_id,
                                           provider_id=r.provider_id))
        # No provider will call back about a recorded message: it is delivered at once.
        for delivery in session.scalars(select(Delivery).where(Delivery.id.in_(ids))):
            deliveries.apply_provider_status(session, delivery, deliveries.DELIVERED, now)


def _now() -> datetime:
    return datetime.now(timezone.utc)

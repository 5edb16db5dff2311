"""GET /metrics: Prometheus text format, the counters of every process and the state right now.

Counters and histograms come from workers.metrics (all processes' files in multiprocess mode).
What is state (queue depths, unfinished deliveries, how old the oldest waiting one is) is read
at scrape time with a few indexed queries, never a scan of the deliveries table.
"""
from __future__ import annotations

import hmac
import logging
from datetime import datetime, timezone
from typing import Callable

from flask import Blueprint, Response, request
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from rq import Worker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

import workers.metrics  # noqa: F401  (defines the counters: they exist at the first scrape)
from admin_ui import get_settings
from notifier import deliveries
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Delivery
from workers import callback_queue
from workers.queues import QUEUES, queue, redis_connection

bp = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)

UNFINISHED = (deliveries.PENDING, deliveries.RETRY_WAIT, deliveries.SENDING, deliveries.SCHEDULED)


@bp.get("/metrics")
def metrics():
    """The metrics; with METRICS_TOKEN set, only for `Authorization: Bearer <METRICS_TOKEN>`."""
    settings = get_settings()
    if settings.metrics_token and not _bearer_matches(settings.metrics_token):
        return Response("a valid bearer token is required\n", status=401,
                        mimetype="text/plain", headers={"WWW-Authenticate": "Bearer"})
    body = generate_latest(registry_for(settings))
    response = Response(body, mimetype=None, content_type=CONTENT_TYPE_PLAIN_0_0_4)
    response.headers["Cache-Control"] = "no-store"
    return response


def registry_for(settings: Settings, now: Callable[[], datetime] | None = None):
    """A registry of everything a scrape shows: counters (this process's, or every process's
    files) and the state collector."""
    registry = CollectorRegistry(auto_describe=False)
    if settings.prometheus_multiproc_dir is not None:
        MultiProcessCollector(registry, path=str(settings.prometheus_multiproc_dir))
    else:
        registry.register(_ThisProcess())
    registry.register(StateCollector(settings, now))
    return registry


def _bearer_matches(expected: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # Compared in constant time: the answer's timing must not spell the token out.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8"), expected.encode("utf-8"))


class _ThisProcess:
    """This process's own counters (no PROMETHEUS_MULTIPROC_DIR: nothing else to add)."""

    def collect(self):
        return REGISTRY.collect()


class StateCollector:
    """Reads queue depths from Redis and waiting deliveries from SQL when scraped."""

    def __init__(self, settings: Settings, now: Callable[[], datetime] | None = None):
        self.settings = settings
        self.now = now or (lambda: datetime.now(timezone.utc))

    def collect(self):
        up = GaugeMetricFamily("tocsin_metrics_source_up", "1 when the scrape could read this "
                               "source, else 0", labels=["source"])
        for source, read in (("redis", self._redis), ("database", self._database)):
            try:
                families = list(read())
            except Exception as exc:  # a scrape reports a part that is down; it never fails
                log.warning("metrics: cannot read %s: %s", source, type(exc).__name__)
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            yield from families
        yield up

    def _redis(self):
        conn = redis_connection(self.settings)
        depth = GaugeMetricFamily("tocsin_queue_depth", "Jobs waiting in each RQ queue",
                                  labels=["queue"])
        scheduled = GaugeMetricFamily("tocsin_scheduled_jobs", "Jobs scheduled for later in "
                                      "each queue (retries, redials)", labels=["queue"])
        for name in QUEUES:
            q = queue(self.settings, name, conn)
            depth.add_metric([name], q.count)
            scheduled.add_metric([name], ScheduledJobRegistry(queue=q).count)
        yield depth
        yield scheduled
        yield GaugeMetricFamily("tocsin_workers", "RQ workers alive (registered in Redis)",
                                value=Worker.count(connection=conn))
        # Accepted status callbacks not yet in the database: a growing backlog means the
        # applier (beside each `python -m workers`) is down or behind.
        yield GaugeMetricFamily("tocsin_callbacks_waiting", "Status callbacks accepted and not "
                                "yet applied", value=conn.llen(callback_queue.QUEUED)
                                + conn.llen(callback_queue.APPLYING))

    def _database(self):
        now = self.now()
        with session_scope(self.settings.database_url, readonly=True) as session:
            # The status index narrows each of these to the unfinished rows.
            rows = session.execute(
                select(Delivery.channel, Delivery.status, func.count())
                .where(Delivery.status.in_(UNFINISHED))
                .group_by(Delivery.channel, Delivery.status)).all()
            oldest = session.scalar(select(func.min(Delivery.queued_at))
                                    .where(Delivery.status == deliveries.PENDING))
            due = session.scalar(select(func.min(Delivery.next_attempt_at))
                                 .where(Delivery.status == deliveries.RETRY_WAIT))
        unfinished = GaugeMetricFamily(
            "tocsin_unfinished_deliveries", "Deliveries not yet handed over, by channel and "
            "status (pending, retry_wait, sending, scheduled: waiting for quiet hours to end)", labels=["channel", "status"])
        for channel, status, n in rows:
            unfinished.add_metric([channel, status], n)
        yield unfinished
        yield GaugeMetricFamily(
            "tocsin_oldest_pending_delivery_seconds", "Age of the oldest pending delivery "
            "(0 when none waits)", value=_seconds_since(oldest, now))
        yield GaugeMetricFamily(
            "tocsin_overdue_retry_seconds", "How long ago the most overdue retry_wait delivery "
            "was due (0 when none is overdue)", value=_seconds_since(due, now))


def _seconds_since(then: datetime | None, now: datetime) -> float:
    if then is None:
        return 0.0
    if then.tzinfo is None:  # func.min over SQLite text may come back without its zone
        then = then.replace(tzinfo=timezone.utc)
    return max(0.0, (now - then).total_seconds())

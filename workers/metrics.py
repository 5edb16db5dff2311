"""Prometheus counters and histograms, counted where things happen (workers and web alike).

With PROMETHEUS_MULTIPROC_DIR set (make run sets it), every process writes its values into
files there and GET /metrics (admin_ui.metrics) adds them up; without it each process counts
for itself only. No label ever holds an address: channels, statuses and provider codes only.
"""
from __future__ import annotations

import collections
import os
import re
from datetime import datetime
from typing import Iterable, Mapping

from channels.base import ChannelError
from notifier import deliveries
from prometheus_client import Counter, Histogram, disable_created_metrics, values

# RQ forks a work horse per job: with one set of files per pid, a big alert would leave
# thousands in the directory, all read at every scrape. A worker's horses run one after
# another, never two at once, so they may share one set (prometheus_client's rule is only
# that processes running at the same time never share an identifier). The worker itself
# keeps its own pid: it never counts, and its cached values must not shadow the horses'.
_horse_of: int | None = None


def _process_identifier():
    return f"{_horse_of}h" if _horse_of is not None else os.getpid()


if getattr(values.ValueClass, "_multiprocess", False):
    values.ValueClass = values.MultiProcessValue(process_identifier=_process_identifier)


# `_created` series double what is exported and mean nothing summed over processes.
disable_created_metrics()


def run_as_horse_of(worker_pid: int) -> None:
    """Called in a fresh work horse: count into the files of worker `worker_pid`'s horses."""
    global _horse_of
    _horse_of = worker_pid


# Seconds, from "at once" to "hours late" (a provider outage is retried for a day).
LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)
FAN_OUT_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)

DELIVERIES = Counter(
    "tocsin_deliveries", "Deliveries that reached a status (pending at fan-out; sent, failed, "
    "retry_wait, skipped, cancelled by workers; delivered, undelivered… by provider callbacks)",
    ["channel", "status"])
PROVIDER_ERRORS = Counter(
    "tocsin_provider_errors", "Errors reported by a provider (its code; connection/timeout when "
    "it could not be reached), on hand-over or in a status callback", ["channel", "code"])
CALLBACKS_APPLIED = Counter(
    "tocsin_callbacks_applied", "Provider status callbacks that moved a delivery forward, by the "
    "status they set", ["status"])
SWEEP_ACTIONS = Counter(
    "tocsin_sweep_actions", "What the resume sweep queued again or gave back (fan_outs, pending, "
    "retries, stale)", ["action"])
FAN_OUT_SECONDS = Histogram(
    "tocsin_fan_out_seconds", "Seconds one alert's fan-out took, from start to every delivery "
    "written and queued", buckets=FAN_OUT_BUCKETS)
SEND_LATENCY = Histogram(
    "tocsin_send_latency_seconds", "Seconds from the alert being sent to the provider accepting "
    "the message (fan-out, queueing, pacing and retries included)", ["channel"],
    buckets=LATENCY_BUCKETS)

# Provider codes are short words or numbers; anything else is one label, not a new series.
_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,20}")


def code_label(code) -> str:
    """The label for provider error `code`: itself when it looks like a code, else "other"."""
    if code is None or code == "":
        return "none"
    code = str(code)
    return code if _CODE.fullmatch(code) else "other"


def count_outcomes(channel: str, now: datetime, outcomes: Iterable, counts: Mapping[str, int],
                   origins: Iterable[datetime | None]) -> None:
    """What a worker recorded at `now`: deliveries per status, the provider errors among
    `outcomes`, and one send latency per message handed over (from its alert's send time)."""
    for status, n in counts.items():
        if n:
            DELIVERIES.labels(channel, status).inc(n)
    errors = collections.Counter(code_label(o.code) for o in outcomes
                                 if isinstance(o, ChannelError))
    for label, n in errors.items():
        PROVIDER_ERRORS.labels(channel, label).inc(n)
    observe_send_latency(channel, origins, now)


def count_fanned_out(rows: Iterable[Mapping], new: Iterable[tuple[int, str]]) -> None:
    """One fan-out batch: `new` (id, channel) rows written pending, `rows` with their skips."""
    tally = collections.Counter((channel, deliveries.PENDING) for _, channel in new)
    tally.update((r["channel"], r["status"]) for r in rows
                 if r.get("status") in (deliveries.SKIPPED, deliveries.SCHEDULED))
    for (channel, status), n in tally.items():
        DELIVERIES.labels(channel, status).inc(n)


def callback_applied(channel: str, status: str, error_code=None) -> None:
    """A status callback moved a delivery of `channel` to `status` (with `error_code`)."""
    CALLBACKS_APPLIED.labels(status).inc()
    DELIVERIES.labels(channel, status).inc()
    if error_code:
        PROVIDER_ERRORS.labels(channel, code_label(error_code)).inc()


def record_sweep(counts: Mapping[str, int]) -> None:
    for action, n in counts.items():
        if n:
            SWEEP_ACTIONS.labels(action).inc(n)


def observe_send_latency(channel: str, origins: Iterable[datetime | None], now: datetime) -> None:
    """One observation per message handed over at `now`, each from its alert's send time."""
    tally = collections.Counter(round(max(0.0, (now - origin).total_seconds()), 3)
                                for origin in origins if origin is not None)
    child = SEND_LATENCY.labels(channel)
    for seconds, n in tally.items():
        observe_many(child, seconds, n)


def observe_many(child: Histogram, value: float, count: int) -> None:
    """`count` observations of `value` at once.

    A batch's messages share their alert and flush time, so their latencies are equal; one
    observe() each cost about 5 µs in multiprocess mode, 5 s of CPU per million messages.
    """
    try:
        bounds, buckets, total = child._upper_bounds, child._buckets, child._sum
    except AttributeError:  # prometheus_client changed its insides: the slow way still works
        for _ in range(count):
            child.observe(value)
        return
    total.inc(value * count)
    for bound, bucket in zip(bounds, buckets):
        if value <= bound:
            bucket.inc(count)
            break

"""The report's clock work: readable buckets, counts per bucket, and exact nearest-rank times.

A percentile is the k-th message in time order (k = ⌈p·N⌉). Sorting a million stored times
costs SQLite far more than scanning them, so the per-bucket counts the chart needs anyway
say which bucket holds the k-th message, and only that bucket's rows are ranked
(ROW_NUMBER(), on SQLite and PostgreSQL alike): exact, at the cost of one scan.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime

from sqlalchemy import BigInteger, Integer, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from notifier.models import Delivery

PERCENTILES = (50, 90, 99)
MAX_BUCKETS = 60
# Bucket widths in seconds a person reads easily; past a day, whole days.
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
ALL = None  # the key of the whole alert among the channels


def bucket_seconds(start: datetime | None, end: datetime | None) -> int:
    """The smallest readable bucket width that covers start…end in at most MAX_BUCKETS."""
    if start is None or end is None or end <= start:
        return STEPS[0]
    span = (end - start).total_seconds()
    for step in STEPS:
        if span < step * MAX_BUCKETS:
            return step
    return 86400 * (int(span // (86400 * MAX_BUCKETS)) + 1)


def bucket_count(start: datetime | None, end: datetime | None, step: int) -> int:
    """Buckets of `step` seconds from start's whole second to end's (as `series` counts)."""
    if start is None or end is None:
        return 0
    return max((int(end.timestamp()) - int(start.timestamp())) // step, 0) + 1


def rank(percent: int, total: int) -> int:
    """Nearest rank: the k-th of `total` ordered values is the `percent` percentile."""
    return (percent * total + 99) // 100


def epoch_seconds(session: Session, column):
    """Whole seconds since 1970 of a stored time, in SQL (SQLite keeps UTC text)."""
    if session.get_bind().dialect.name == "sqlite":
        if sqlite3.sqlite_version_info >= (3, 38):
            return func.unixepoch(column, type_=Integer)  # twice as fast as strftime on a million rows
        return cast(func.strftime("%s", column), Integer)
    return cast(func.floor(func.extract("epoch", column)), BigInteger)


def _bucket(session: Session, column, start: datetime, step: int, size: int):
    """The bucket of `column` in SQL; before `start` is the first, past the last is the last."""
    raw = (epoch_seconds(session, column) - int(start.timestamp())) // step
    return case((raw < 0, 0), (raw > size - 1, size - 1), else_=raw)


def series(session: Session, alert_id: int, columns: dict, start: datetime | None, step: int,
           size: int, by_channel: bool = True) -> dict[str, dict[str, list[int]]]:
    """{kind: {channel (or "all"): [count per bucket]}} of each of `columns` ({kind: column}).

    One GROUP BY for them all: SQLite sorts to group, and one sort of (channel, bucket of
    each) costs about what one sort per column would, divided by the number of columns.
    """
    if start is None or not size:
        return {kind: {} for kind in columns}
    key = Delivery.channel if by_channel else literal("all")
    buckets = [_bucket(session, column, start, step, size).label(f"b{i}")
               for i, column in enumerate(columns.values())]
    rows = (select(key.label("key"), *buckets).where(
        Delivery.alert_id == alert_id, or_(*(c.is_not(None) for c in columns.values())))
        .subquery())
    keys = [rows.c[f"b{i}"] for i in range(len(columns))]
    out: dict[str, dict[str, list[int]]] = {kind: {} for kind in columns}
    for k, *found, n in session.execute(select(rows.c.key, *keys, func.count())
                                        .group_by(rows.c.key, *keys)):
        for kind, bucket in zip(columns, found):
            if bucket is not None:
                out[kind].setdefault(k, [0] * size)[int(bucket)] += n
    return {kind: dict(sorted(per.items())) for kind, per in out.items()}


def extremes(session: Session, alert_id: int, columns: dict) -> dict:
    """{kind: {channel: (count, first, last)}} of each of `columns`, in one pass by channel."""
    aggregates = [f(column) for column in columns.values()
                  for f in (func.count, func.min, func.max)]
    out: dict[str, dict] = {kind: {} for kind in columns}
    for channel, *values in session.execute(select(Delivery.channel, *aggregates)
                                            .where(Delivery.alert_id == alert_id)
                                            .group_by(Delivery.channel)):
        for i, kind in enumerate(columns):
            out[kind][channel] = tuple(values[3 * i:3 * i + 3])
    return out


def milestones(session: Session, alert_id: int, column, found: dict, counts: dict[str, list[int]],
               meant: dict[str, int], start: datetime | None, step: int, size: int) -> dict:
    """{ALL or channel: {"count", "first", "last", 50, 90, 99}}: times, null when not reached.

    `found` is `extremes(column)`, `counts` its `series`, `meant` the messages meant to go
    per channel (the base of the percentages).
    """
    overall = [sum(column_counts) for column_counts in zip(*counts.values())] if counts else []
    scopes = {ALL: (overall, sum(meant.values()))}
    scopes.update({c: (counts.get(c, []), meant.get(c, 0)) for c in sorted(meant)})
    targets: dict[tuple, tuple[int, int]] = {}  # (scope, p) → (bucket, rank in it)
    for scope, (per_bucket, total) in scopes.items():
        for p in PERCENTILES:
            k = rank(p, total)
            before = 0
            for bucket, n in enumerate(per_bucket):
                if 0 < k <= before + n:
                    targets[scope, p] = (bucket, k - before)
                    break
                before += n
    times = _ranked(session, alert_id, column, targets, start, step, size) if targets else {}
    out = {}
    for scope in scopes:
        rows = [found[scope]] if scope in found else (list(found.values()) if scope is ALL else [])
        firsts = [r[1] for r in rows if r[1] is not None]
        lasts = [r[2] for r in rows if r[2] is not None]
        out[scope] = {"count": sum(r[0] for r in rows), "first": min(firsts, default=None),
                      "last": max(lasts, default=None),
                      **{p: times.get((scope, p)) for p in PERCENTILES}}
    return out


def _ranked(session: Session, alert_id: int, column, targets: dict, start, step: int,
            size: int) -> dict:
    """The time of each target (bucket, rank), ranking only the rows of those buckets: the
    whole alert's in its few buckets, a channel's among that channel's rows of its buckets."""
    base = (select(Delivery.id, Delivery.channel, column.label("at"),
                   _bucket(session, column, start, step, size).label("bucket"))
            .where(Delivery.alert_id == alert_id, column.is_not(None)).subquery())
    order = (base.c.at, base.c.id)
    found: dict[tuple, object] = {}
    whole = {(b, r) for (scope, _), (b, r) in targets.items() if scope is ALL}
    if whole:
        ranked = (select(base.c.bucket, base.c.at, func.row_number().over(
            partition_by=base.c.bucket, order_by=order).label("rank"))
            .where(base.c.bucket.in_(sorted({b for b, _ in whole}))).subquery())
        for bucket, at, r in session.execute(select(ranked).where(
                ranked.c.rank.in_(sorted({r for _, r in whole})))):
            found[ALL, int(bucket), r] = at
    own = {(scope, b, r) for (scope, _), (b, r) in targets.items() if scope is not ALL}
    if own:
        ranked = (select(base.c.channel, base.c.bucket, base.c.at, func.row_number().over(
            partition_by=(base.c.channel, base.c.bucket), order_by=order).label("rank"))
            .where(or_(*(and_(base.c.channel == c, base.c.bucket == b)
                         for c, b in sorted({(c, b) for c, b, _ in own})))).subquery())
        for channel, bucket, at, r in session.execute(select(ranked).where(
                ranked.c.rank.in_(sorted({r for _, _, r in own})))):
            found[channel, int(bucket), r] = at
    return {(scope, p): found.get((scope, b, r)) for (scope, p), (b, r) in targets.items()}

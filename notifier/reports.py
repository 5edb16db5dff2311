"""The after-action report of one alert (DESIGN §13): timeline, hand-over over time, failures, reach.

Every figure is an aggregate query, never a Python loop over deliveries, so a report of a
million messages costs a few sorts and GROUP BYs. Percentiles are nearest-rank (the k-th
message in time order, k = ⌈p·N⌉), read with ROW_NUMBER() on SQLite and PostgreSQL alike; N
is the messages the alert meant to send (every delivery but `skipped`), so a milestone that a
cancel or failures kept out of reach stays null. Reach counts residents still on file: a
resident counts under each zone they follow and under their language.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from sqlalchemy import BigInteger, Integer, and_, case, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from notifier import deliveries
from notifier.models import Alert, AuditEvent, Delivery, SubscriberZone, Zone

PERCENTILES = (50, 90, 99)
MAX_BUCKETS = 60
# Bucket widths in seconds a person reads easily; past a day, whole days.
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
MAX_ZONES = 50
# The messages that reached a provider at some point (sent_at is the hand-over time).
HANDED_OVER = "handed_over"
DELIVERED = "delivered"
# Every timeline event, in the order of a send that goes to plan.
EVENTS = ("created", "approved", "sent", "fanned_out", "first_handed_over",
          *(f"{HANDED_OVER}_{p}" for p in PERCENTILES), f"last_{HANDED_OVER}", "first_delivered",
          *(f"{DELIVERED}_{p}" for p in PERCENTILES), f"last_{DELIVERED}", "cancelled")


def build(session: Session, alert: Alert, now: datetime,
          describe: Callable[[str, str | None], str | None] | None = None) -> dict:
    """The report of `alert` as of `now`, as JSON-ready data (the API's report shape).

    `describe(channel, error_code)` gives a failure code's plain words (channels know them).
    """
    describe = describe or (lambda channel, code: None)
    counts = deliveries.stats(session, alert.id)
    meant = sum(n for channel in counts["channels"].values()
                for status, n in channel.items() if status != deliveries.SKIPPED)
    start = alert.sent_at or _earliest(session, alert.id)
    handed = _milestones(session, alert.id, Delivery.sent_at, meant)
    delivered = _milestones(session, alert.id, Delivery.delivered_at, meant)
    end = max((t for t in (handed["last"], delivered["last"]) if t is not None), default=start)
    step = bucket_seconds(start, end)
    buckets = bucket_count(start, end, step) if meant else 0
    last_ack = session.scalar(select(func.max(Delivery.acknowledged_at))
                              .where(Delivery.alert_id == alert.id))
    ack_step = bucket_seconds(start, last_ack)
    ack_buckets = bucket_count(start, last_ack, ack_step) if last_ack else 0
    return {
        "alert": _alert_summary(alert),
        "generated_at": _iso(now),
        "totals": {"messages": sum(sum(c.values()) for c in counts["channels"].values()),
                   "meant": meant, "residents": counts["recipients"],
                   "handed_over": handed["count"], "delivered": delivered["count"],
                   "acknowledged": counts["acknowledged"]},
        "channels": counts["channels"],
        "channel_milestones": _channel_milestones(session, alert, counts["channels"]),
        "timeline": _timeline(session, alert, handed, delivered, meant),
        "over_time": {
            "start": _iso(start), "bucket_seconds": step,
            "buckets": buckets,
            "series": {HANDED_OVER: _series(session, alert.id, Delivery.sent_at, start, step,
                                            buckets),
                       DELIVERED: _series(session, alert.id, Delivery.delivered_at, start, step,
                                          buckets)},
            "meant": {c: sum(n for s, n in v.items() if s != deliveries.SKIPPED)
                      for c, v in counts["channels"].items()}},
        "acknowledgements": {
            "asked": bool(alert.confirm), "count": counts["acknowledged"],
            "start": _iso(start), "bucket_seconds": ack_step,
            "buckets": ack_buckets,
            "counts": _series(session, alert.id, Delivery.acknowledged_at, start, ack_step,
                              ack_buckets, by_channel=False).get("all", [0] * ack_buckets)},
        "failures": _failures(session, alert.id, describe),
        "skipped": _skipped(session, alert.id),
        "reach": _reach(session, alert),
    }


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
    """Buckets of `step` seconds from start's whole second to end's (as `_series` counts)."""
    if start is None or end is None:
        return 0
    return max((int(end.timestamp()) - int(start.timestamp())) // step, 0) + 1


def _alert_summary(alert: Alert) -> dict:
    area = alert.area or {}
    return {"id": alert.id, "identifier": alert.identifier, "headline": alert.headline,
            "status": alert.status, "msg_type": alert.msg_type, "state": alert.state,
            "channels": list(alert.channels or []), "confirm": bool(alert.confirm),
            "area_description": area.get("description"), "zones": list(area.get("zones") or []),
            "everyone": bool(area.get("everyone")), "expires_at": _iso(alert.expires_at)}


def _earliest(session: Session, alert_id: int) -> datetime | None:
    return session.scalar(select(func.min(Delivery.queued_at)).where(Delivery.alert_id == alert_id))


def rank(percent: int, total: int) -> int:
    """Nearest rank: the k-th of `total` ordered values is the `percent` percentile."""
    return (percent * total + 99) // 100


def _milestones(session: Session, alert_id: int, column, meant: int,
                channel: str | None = None) -> dict:
    """{"count", "first", "last", 50: t, 90: t, 99: t} of `column` (null when not reached),
    over the alert's messages or one channel's."""
    where = [Delivery.alert_id == alert_id]
    if channel is not None:
        where.append(Delivery.channel == channel)
    count, first, last = session.execute(
        select(func.count(column), func.min(column), func.max(column)).where(*where)).one()
    out = {"count": count, "first": first, "last": last}
    wanted = {p: rank(p, meant) for p in PERCENTILES if meant}
    reachable = sorted({k for k in wanted.values() if 0 < k <= count})
    found: dict[int, datetime] = {}
    if reachable:
        ordered = (select(column.label("at"),
                          func.row_number().over(order_by=(column, Delivery.id)).label("rn"))
                   .where(*where, column.is_not(None)).subquery())
        found = dict(session.execute(select(ordered.c.rn, ordered.c.at)
                                     .where(ordered.c.rn.in_(reachable))).all())
    for p in PERCENTILES:
        out[p] = _aware(found.get(wanted.get(p, 0)))
    return out


def _channel_milestones(session: Session, alert: Alert, channels: dict) -> list[dict]:
    """Per channel: messages meant, and seconds after sending of the first, 50/90/99 % and
    last hand-over and delivery (email providers seldom report delivery: null there)."""
    sent = _aware(alert.sent_at)
    out = []
    for channel, statuses in sorted(channels.items()):
        meant = sum(n for status, n in statuses.items() if status != deliveries.SKIPPED)
        item = {"channel": channel, "meant": meant}
        for name, column in ((HANDED_OVER, Delivery.sent_at), (DELIVERED, Delivery.delivered_at)):
            found = _milestones(session, alert.id, column, meant, channel)
            item[name] = {"count": found["count"], **{
                str(key): round((_aware(found[key]) - sent).total_seconds(), 3)
                if found[key] and sent else None for key in ("first", *PERCENTILES, "last")}}
        out.append(item)
    return out


def _timeline(session: Session, alert: Alert, handed: dict, delivered: dict, meant: int) -> list:
    """Each event: {"event", "at" (null: has not happened), "by", "seconds" (after sending)}."""
    actors = dict(session.execute(
        select(AuditEvent.action, func.min(AuditEvent.actor))
        .where(AuditEvent.object == f"alert:{alert.id}",
               AuditEvent.action.in_(("alert.send", "alert.cancel")))
        .group_by(AuditEvent.action)).all())
    events = [("created", alert.created_at, alert.created_by, {}),
              ("approved", alert.approved_at, alert.approved_by, {}),
              ("sent", alert.sent_at, actors.get("alert.send"), {}),
              ("fanned_out", alert.fanned_out_at, None, {}),
              ("first_handed_over", handed["first"], None, {})]
    for name, milestones in ((HANDED_OVER, handed), (DELIVERED, delivered)):
        if name == DELIVERED:
            events.append(("first_delivered", delivered["first"], None, {}))
        for p in PERCENTILES:
            events.append((f"{name}_{p}", milestones[p], None,
                           {"count": rank(p, meant), "of": meant}))
        events.append((f"last_{name}", milestones["last"], None, {}))
    events.append(("cancelled", alert.cancelled_at, actors.get("alert.cancel"), {}))
    order = {name: i for i, (name, *_rest) in enumerate(events)}
    far = datetime.max.replace(tzinfo=timezone.utc)
    events.sort(key=lambda e: (_aware(e[1]) or far, order[e[0]]))
    sent = _aware(alert.sent_at)
    return [{"event": name, "at": _iso(at), "by": by,
             "seconds": round((_aware(at) - sent).total_seconds(), 3) if at and sent else None,
             **extra} for name, at, by, extra in events]


def epoch_seconds(session: Session, column):
    """Whole seconds since 1970 of a stored time, in SQL (SQLite keeps UTC text)."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(func.floor(func.extract("epoch", column)), BigInteger)


def _series(session: Session, alert_id: int, column, start: datetime | None, step: int,
            size: int, by_channel: bool = True) -> dict[str, list[int]]:
    """{channel (or "all"): [count per bucket]} of `column`, one GROUP BY; times before
    `start` fall in the first bucket, times after the last (a late callback) in the last."""
    if start is None or not size:
        return {}
    origin = int(start.timestamp())
    key = Delivery.channel if by_channel else literal("all")
    offsets = (select(key.label("key"),
                      ((epoch_seconds(session, column) - origin) // step).label("bucket"))
               .where(Delivery.alert_id == alert_id, column.is_not(None)).subquery())
    rows = session.execute(select(offsets.c.key, offsets.c.bucket, func.count())
                           .group_by(offsets.c.key, offsets.c.bucket)).all()
    out: dict[str, list[int]] = {}
    for k, bucket, n in rows:
        out.setdefault(k, [0] * size)[min(max(int(bucket), 0), size - 1)] += n
    return dict(sorted(out.items()))


def _failures(session: Session, alert_id: int, describe) -> list[dict]:
    """Failed and undelivered messages per (channel, status, code), most first."""
    n = func.count()
    rows = session.execute(
        select(Delivery.channel, Delivery.status, Delivery.error_code, n)
        .where(Delivery.alert_id == alert_id,
               Delivery.status.in_((deliveries.FAILED, deliveries.UNDELIVERED)))
        .group_by(Delivery.channel, Delivery.status, Delivery.error_code)
        .order_by(n.desc(), Delivery.channel, Delivery.error_code)).all()
    return [{"channel": channel, "status": status, "error_code": code, "count": count,
             "description": describe(channel, code)} for channel, status, code, count in rows]


def _skipped(session: Session, alert_id: int) -> list[dict]:
    """Messages never sent and why (our own fixed reasons: opted out, no address…)."""
    from notifier.masking import mask_text

    n = func.count()
    rows = session.execute(
        select(Delivery.channel, Delivery.error_message, n)
        .where(Delivery.alert_id == alert_id, Delivery.status == deliveries.SKIPPED)
        .group_by(Delivery.channel, Delivery.error_message)
        .order_by(n.desc(), Delivery.channel)).all()
    return [{"channel": channel, "reason": mask_text(reason) or None, "count": count}
            for channel, reason, count in rows]


def _reach(session: Session, alert: Alert) -> dict:
    """Residents per language and per followed zone: messages, residents, and how many of them
    had a message handed over, delivered, acknowledged."""
    def one(column):
        return func.max(case((column.is_not(None), 1), else_=0))

    people = (select(Delivery.subscriber_id.label("sid"),
                     func.min(Delivery.language).label("language"),
                     func.count().label("messages"),
                     one(Delivery.sent_at).label("handed"), one(Delivery.delivered_at).label("got"),
                     one(Delivery.acknowledged_at).label("acked"))
              .where(Delivery.alert_id == alert.id, Delivery.subscriber_id.is_not(None),
                     Delivery.status != deliveries.SKIPPED)
              .group_by(Delivery.subscriber_id).subquery())
    sums = (func.sum(people.c.messages), func.count(), func.sum(people.c.handed),
            func.sum(people.c.got), func.sum(people.c.acked))

    def row(key, values) -> dict:
        messages, residents, handed, got, acked = (int(v or 0) for v in values)
        return {**key, "messages": messages, "residents": residents, "handed_over": handed,
                "delivered": got, "acknowledged": acked}

    languages = [row({"language": lang}, rest) for lang, *rest in session.execute(
        select(people.c.language, *sums).group_by(people.c.language)
        .order_by(func.count().desc(), people.c.language))]
    named = list((alert.area or {}).get("zones") or [])
    zone_rows = session.execute(
        select(SubscriberZone.zone_code, *sums)
        .join(people, people.c.sid == SubscriberZone.subscriber_id)
        .group_by(SubscriberZone.zone_code)
        .order_by(func.count().desc(), SubscriberZone.zone_code).limit(MAX_ZONES)).all()
    zones = {code: row({"zone": code}, rest) for code, *rest in zone_rows}
    for code in named:
        zones.setdefault(code, row({"zone": code}, (0,) * 5))
    names = dict(session.execute(select(Zone.code, Zone.name)
                                 .where(Zone.code.in_(list(zones)))).all())
    for code, item in zones.items():
        item.update(name=names.get(code), named_by_alert=code in named)
    following = exists().where(SubscriberZone.subscriber_id == people.c.sid)
    no_zone = session.execute(select(*sums).where(~following)).one()
    erased = session.scalar(select(func.count()).where(
        and_(Delivery.alert_id == alert.id, Delivery.subscriber_id.is_(None),
             Delivery.status != deliveries.SKIPPED))) or 0
    return {"languages": languages, "zones": list(zones.values()),
            "no_zone": row({}, no_zone), "zones_shown_max": MAX_ZONES,
            "messages_to_erased_residents": erased}


def _aware(value: datetime | None) -> datetime | None:
    """Rows read through a subquery skip the column type: SQLite gives naive UTC text back."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def _iso(value) -> str | None:
    value = _aware(value)
    return value.isoformat().replace("+00:00", "Z") if value else None


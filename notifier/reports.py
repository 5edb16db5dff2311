"""The after-action report of one alert (DESIGN §13): timeline, hand-over over time, failures, reach.

Every figure is an aggregate query, never a Python loop over deliveries (`report_times` says
how the percentiles stay exact without sorting every message). Percent milestones are of the
messages the alert meant to send (every delivery but `skipped`), so one that a cancel or
failures kept out of reach stays null. Reach lives in `report_reach`.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notifier import deliveries, delivery_stats
from notifier.masking import mask_text
from notifier.models import Alert, AuditEvent, Delivery
from notifier.report_reach import reach
from notifier.report_times import (ALL, PERCENTILES, bucket_count, bucket_seconds, extremes,
                                   milestones, rank, series)

HANDED_OVER = "handed_over"  # sent_at: the provider took the message
DELIVERED = "delivered"
# Every timeline event, in the order of a send that goes to plan.
EVENTS = ("created", "approved", "sent", "fanned_out", "first_handed_over",
          *(f"{HANDED_OVER}_{p}" for p in PERCENTILES), f"last_{HANDED_OVER}", "first_delivered",
          *(f"{DELIVERED}_{p}" for p in PERCENTILES), f"last_{DELIVERED}", "cancelled")
COLUMNS = {HANDED_OVER: Delivery.sent_at, DELIVERED: Delivery.delivered_at}


def build(session: Session, alert: Alert, now: datetime,
          describe: Callable[[str, str | None], str | None] | None = None) -> dict:
    """The report of `alert` as of `now`, as JSON-ready data (the API's report shape).

    `describe(channel, error_code)` gives a failure code's plain words (channels know them).
    """
    describe = describe or (lambda channel, code: None)
    counts = delivery_stats.stats(session, alert.id)
    meant = {c: sum(n for s, n in v.items() if s != deliveries.SKIPPED)
             for c, v in counts["channels"].items()}
    total = sum(meant.values())
    start = _aware(alert.sent_at) or _aware(session.scalar(
        select(func.min(Delivery.queued_at)).where(Delivery.alert_id == alert.id)))
    found = extremes(session, alert.id, COLUMNS)
    end = max((_aware(last) for kind in found.values() for _, _, last in kind.values()
               if last is not None), default=start)
    step = bucket_seconds(start, end)
    size = bucket_count(start, end, step) if total else 0
    over_time = series(session, alert.id, COLUMNS, start, step, size)
    reached = {}
    for kind, column in COLUMNS.items():
        reached[kind] = milestones(session, alert.id, column, found[kind], over_time[kind],
                                   meant, start, step, size)
    last_ack = _aware(session.scalar(select(func.max(Delivery.acknowledged_at))
                                     .where(Delivery.alert_id == alert.id)))
    ack_step = bucket_seconds(start, last_ack)
    ack_size = bucket_count(start, last_ack, ack_step) if last_ack else 0
    return {
        "alert": _alert_summary(alert),
        "generated_at": _iso(now),
        "totals": {"messages": sum(sum(c.values()) for c in counts["channels"].values()),
                   "meant": total, "residents": counts["recipients"],
                   "handed_over": reached[HANDED_OVER][ALL]["count"],
                   "delivered": reached[DELIVERED][ALL]["count"],
                   "acknowledged": counts["acknowledged"]},
        "channels": counts["channels"],
        "channel_milestones": [_channel_row(c, meant[c], reached, start) for c in sorted(meant)],
        "timeline": _timeline(session, alert, reached, total),
        "over_time": {"start": _iso(start), "bucket_seconds": step, "buckets": size,
                      "series": over_time, "meant": meant},
        "acknowledgements": {
            "asked": bool(alert.confirm), "count": counts["acknowledged"],
            "start": _iso(start), "bucket_seconds": ack_step, "buckets": ack_size,
            "counts": series(session, alert.id, {"acknowledged": Delivery.acknowledged_at},
                             start, ack_step, ack_size, by_channel=False)["acknowledged"]
            .get("all", [0] * ack_size)},
        "failures": _failures(session, alert.id, describe),
        "skipped": _skipped(session, alert.id),
        "reach": reach(session, alert),
    }


def _alert_summary(alert: Alert) -> dict:
    area = alert.area or {}
    return {"id": alert.id, "identifier": alert.identifier, "headline": alert.headline,
            "status": alert.status, "msg_type": alert.msg_type, "state": alert.state,
            "channels": list(alert.channels or []), "confirm": bool(alert.confirm),
            "area_description": area.get("description"), "zones": list(area.get("zones") or []),
            "everyone": bool(area.get("everyone")), "expires_at": _iso(alert.expires_at)}


def _seconds(at, start) -> float | None:
    at, start = _aware(at), _aware(start)
    return round((at - start).total_seconds(), 3) if at and start else None


def _channel_row(channel: str, meant: int, reached: dict, start) -> dict:
    """One channel's messages meant, and seconds after sending of its first, 50/90/99 % and
    last hand-over and delivery (email providers seldom report delivery: null there)."""
    row = {"channel": channel, "meant": meant}
    for kind, scopes in reached.items():
        times = scopes[channel]
        row[kind] = {"count": times["count"], **{str(key): _seconds(times[key], start)
                                                 for key in ("first", *PERCENTILES, "last")}}
    return row


def _timeline(session: Session, alert: Alert, reached: dict, meant: int) -> list:
    """Each event: {"event", "at" (null: has not happened), "by", "seconds" (after sending)}."""
    actors = dict(session.execute(
        select(AuditEvent.action, func.min(AuditEvent.actor))
        .where(AuditEvent.object == f"alert:{alert.id}",
               AuditEvent.action.in_(("alert.send", "alert.cancel", "alert.replace")))
        .group_by(AuditEvent.action)).all())
    handed, delivered = reached[HANDED_OVER][ALL], reached[DELIVERED][ALL]
    events = [("created", alert.created_at, alert.created_by, {}),
              ("approved", alert.approved_at, alert.approved_by, {}),
              ("sent", alert.sent_at, actors.get("alert.send"), {}),
              ("fanned_out", alert.fanned_out_at, None, {}),
              ("first_handed_over", handed["first"], None, {})]
    for kind, times in ((HANDED_OVER, handed), (DELIVERED, delivered)):
        if kind == DELIVERED:
            events.append(("first_delivered", times["first"], None, {}))
        for p in PERCENTILES:
            events.append((f"{kind}_{p}", times[p], None, {"count": rank(p, meant), "of": meant}))
        events.append((f"last_{kind}", times["last"], None, {}))
    events.append(("cancelled", alert.cancelled_at,
                   actors.get("alert.cancel") or actors.get("alert.replace"), {}))
    order = {name: i for i, name in enumerate(EVENTS)}
    far = datetime.max.replace(tzinfo=timezone.utc)
    events.sort(key=lambda e: (_aware(e[1]) or far, order[e[0]]))
    return [{"event": name, "at": _iso(at), "by": by, "seconds": _seconds(at, alert.sent_at),
             **extra} for name, at, by, extra in events]


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
    n = func.count()
    rows = session.execute(
        select(Delivery.channel, Delivery.error_message, n)
        .where(Delivery.alert_id == alert_id, Delivery.status == deliveries.SKIPPED)
        .group_by(Delivery.channel, Delivery.error_message)
        .order_by(n.desc(), Delivery.channel)).all()
    return [{"channel": channel, "reason": mask_text(reason) or None, "count": count}
            for channel, reason, count in rows]


def _aware(value) -> datetime | None:
    """Rows read through a subquery may skip the column type: SQLite gives naive UTC text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def _iso(value) -> str | None:
    value = _aware(value)
    return value.isoformat().replace("+00:00", "Z") if value else None

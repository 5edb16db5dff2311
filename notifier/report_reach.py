"""The report's reach (DESIGN §13): residents per language and per zone they follow.

Counted per resident still on file (a resident with SMS and email is one resident): a zone's
row holds its followers among the alert's residents, so a resident following two zones counts
in both, and residents reached by their location alone, following none, have a row apart.
The followed zone is what the database knows cheaply and truly; where a resident's location
lies would mean a polygon test per resident, which a report need not repeat.
"""
from __future__ import annotations

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session

from notifier import deliveries
from notifier.models import Alert, Delivery, SubscriberZone, Zone

MAX_ZONES = 50


def reach(session: Session, alert: Alert) -> dict:
    """Residents per language and per followed zone: messages, residents, and how many of them
    had a message handed over, delivered, acknowledged."""
    def one(column):
        return func.max(case((column.is_not(None), 1), else_=0))

    follows = exists().where(SubscriberZone.subscriber_id == Delivery.subscriber_id)
    people = (select(Delivery.subscriber_id.label("sid"),
                     func.min(Delivery.language).label("language"),
                     func.count().label("messages"),
                     one(Delivery.sent_at).label("handed"), one(Delivery.delivered_at).label("got"),
                     one(Delivery.acknowledged_at).label("acked"),
                     case((follows, 0), else_=1).label("no_zone"))
              .where(Delivery.alert_id == alert.id, Delivery.subscriber_id.is_not(None),
                     Delivery.status != deliveries.SKIPPED)
              .group_by(Delivery.subscriber_id).subquery())
    sums = (func.sum(people.c.messages), func.count(), func.sum(people.c.handed),
            func.sum(people.c.got), func.sum(people.c.acked))

    def row(key, values) -> dict:
        messages, residents, handed, got, acked = (int(v or 0) for v in values)
        return {**key, "messages": messages, "residents": residents, "handed_over": handed,
                "delivered": got, "acknowledged": acked}

    # Those following no zone are summed along the languages: one pass less over the residents.
    alone = (func.sum(people.c.messages * people.c.no_zone), func.sum(people.c.no_zone),
             *(func.sum(people.c[c] * people.c.no_zone) for c in ("handed", "got", "acked")))
    languages, no_zone = [], [0] * 5
    for lang, *rest in session.execute(select(people.c.language, *sums, *alone)
                                       .group_by(people.c.language)
                                       .order_by(func.count().desc(), people.c.language)):
        languages.append(row({"language": lang}, rest[:5]))
        no_zone = [a + int(b or 0) for a, b in zip(no_zone, rest[5:])]
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
    erased = session.scalar(select(func.count()).where(
        and_(Delivery.alert_id == alert.id, Delivery.subscriber_id.is_(None),
             Delivery.status != deliveries.SKIPPED))) or 0
    return {"languages": languages, "zones": list(zones.values()),
            "no_zone": row({}, no_zone), "zones_shown_max": MAX_ZONES,
            "messages_to_erased_residents": erased}

"""Who an alert reaches, streamed in batches: one code path for the preview and the fan-out.

Memory stays flat at a million residents: locations come from an indexed bounding-box query in
chunks and are refined with numpy; only matching subscriber ids are kept (8 bytes each), and
subscriber rows are read a batch at a time with Core selects, never as ORM objects.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Iterator, NamedTuple

import numpy as np
import shapely
from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from notifier import geo
from notifier.i18n import normalize
from notifier.models import Location, OptOut, Subscriber, SubscriberGroup, SubscriberZone, Zone
from notifier.render import message_language, non_gsm_characters, render_sms, sms_info

RESIDENT_CHANNELS = ("sms", "voice", "email")  # "social" posts once, to nobody in particular
ADDRESS_OF = {"sms": "phone", "voice": "phone", "email": "email"}
TEST_GROUP = "test"
OPTED_OUT = "opted out"
_CHUNK = 50_000  # locations refined per numpy pass


class Recipient(NamedTuple):
    """One delivery to make: `language` is the tag of the text they get (`resident_language`
    is what they asked for); `skip_reason` is None or why it is recorded as skipped."""

    subscriber_id: int
    channel: str
    address: str
    language: str
    skip_reason: str | None = None
    resident_language: str | None = None


@dataclass
class Reach:
    """Residents an alert's area reaches, before channels: sorted ids, or everyone."""

    area: geo.Area
    test_only: bool
    ids: np.ndarray | None  # None: everyone (paged from SQL instead)
    by_location: int = 0
    by_zone: int = 0
    by_everyone: int = 0
    zone_geometries: tuple = ()

    @property
    def count(self) -> int:
        return self.by_everyone if self.ids is None else len(self.ids)


def resolve(session: Session, alert) -> Reach:
    """Work out which residents the alert's area reaches (DESIGN §4 "Who an area reaches")."""
    area = geo.parse_area(alert.area)
    # Anything but a live alert reaches only the test group: a test must never go out as live.
    test_only = alert.status != "Actual"
    test_filter = select(SubscriberGroup.subscriber_id).where(SubscriberGroup.name == TEST_GROUP)
    if area.everyone:
        count = select(func.count()).select_from(Subscriber)
        if test_only:
            count = count.where(Subscriber.id.in_(test_filter))
        return Reach(area, test_only, None, by_everyone=session.execute(count).scalar_one())
    zones = _zones_near(session, area)
    named = [shape for code, shape in zones if code in area.zones]
    followed = set(area.zones) | {code for code, shape in zones if area.overlaps(shape)}
    located = _covered_ids(session, area, named)
    followers = np.unique(np.fromiter(session.execute(
        select(SubscriberZone.subscriber_id).where(SubscriberZone.zone_code.in_(sorted(followed)))
    ).scalars(), dtype=np.int64)) if followed else np.empty(0, dtype=np.int64)
    if test_only:
        testers = np.fromiter(session.execute(test_filter).scalars(), dtype=np.int64)
        located = np.intersect1d(located, testers)
        followers = np.intersect1d(followers, testers)
    return Reach(area, test_only, np.union1d(located, followers), by_location=len(located),
                 by_zone=len(followers), zone_geometries=tuple(named))


def _zones_near(session: Session, area: geo.Area) -> list[tuple[str, object]]:
    """(code, shapely geometry) of the named zones and of zones whose box meets the area's."""
    wanted = [Zone.code.in_(area.zones)] if area.zones else []
    for west, south, east, north in area.boxes:
        wanted.append(and_(Zone.min_lat <= north, Zone.max_lat >= south,
                           Zone.min_lon <= east, Zone.max_lon >= west))
    if area.boxes:
        wanted.append(Zone.min_lat.is_(None))  # no stored box: look at the shape itself
    if not wanted:
        return []
    rows = session.execute(select(Zone.code, Zone.geometry).where(or_(*wanted)))
    return [(code, geo.shape_of(geometry)) for code, geometry in rows if geometry]


def _covered_ids(session: Session, area: geo.Area, zone_shapes: list) -> np.ndarray:
    """Sorted ids of residents with a location in the drawn area or in a named zone's polygon."""
    boxes = list(area.boxes)
    zone_union = None
    if zone_shapes:
        zone_union = shapely.union_all(zone_shapes)
        shapely.prepare(zone_union)
        boxes.append(tuple(zone_union.bounds))
    if not boxes:
        return np.empty(0, dtype=np.int64)
    stmt = select(Location.subscriber_id, Location.lat, Location.lon).where(or_(*(
        and_(Location.lat.between(south, north), Location.lon.between(west, east))
        for west, south, east, north in boxes)))
    found = []
    for rows in _raw_chunks(session, stmt):
        block = np.array(rows, dtype=np.float64).reshape(-1, 3)
        lats, lons = block[:, 1], block[:, 2]
        hit = area.covers(lats, lons)
        if zone_union is not None:
            hit |= shapely.intersects_xy(zone_union, lons, lats)
        found.append(block[hit, 0].astype(np.int64))
    return np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)


def _raw_chunks(session: Session, stmt) -> Iterator[list[tuple]]:
    """Plain DB-API tuples in chunks of _CHUNK rows, read inside the session's transaction.

    Building a SQLAlchemy Row per location costs more than the query itself at a million
    residents, and numpy wants tuples anyway; PostgreSQL streams through a server-side cursor.
    """
    conn = session.connection()
    compiled = stmt.compile(dialect=conn.dialect)
    params = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    dbapi = conn.connection.driver_connection
    named = conn.dialect.name == "postgresql"
    cursor = dbapi.cursor(name="tocsin_locations") if named else dbapi.cursor()
    try:
        cursor.execute(str(compiled), params)
        while rows := cursor.fetchmany(_CHUNK):
            yield rows
    finally:
        cursor.close()


def _row_batches(conn, reach: Reach, channels: list[str], batch_size: int) -> Iterator[list]:
    """Rows (id, phone, email, language, channels JSON, opted out per channel…) per batch."""
    columns = [Subscriber.id, Subscriber.phone, Subscriber.email, Subscriber.language,
               cast(Subscriber.channels, Text)]
    for channel in channels:  # the opt-out ledger's primary key makes each probe one lookup
        address = Subscriber.phone if ADDRESS_OF[channel] == "phone" else Subscriber.email
        columns.append(select(OptOut.address).where(OptOut.address == address, OptOut.channel == channel)
                       .exists().label(f"out_{channel}"))
    stmt = select(*columns).order_by(Subscriber.id)
    if reach.ids is None:
        if reach.test_only:
            stmt = stmt.where(Subscriber.id.in_(
                select(SubscriberGroup.subscriber_id).where(SubscriberGroup.name == TEST_GROUP)))
        last = 0
        while rows := conn.execute(stmt.where(Subscriber.id > last).limit(batch_size)).all():
            yield rows  # keyset pagination: each page starts after the last id seen
            last = rows[-1][0]
        return
    for start in range(0, len(reach.ids), batch_size):
        ids = reach.ids[start:start + batch_size].tolist()
        if ids[-1] - ids[0] < 1.5 * len(ids):
            # Dense ids (a town-wide alert): a range is far cheaper than a long IN list.
            wanted = set(ids)
            yield [row for row in conn.execute(stmt.where(Subscriber.id.between(ids[0], ids[-1])))
                   if row[0] in wanted]
        else:
            yield conn.execute(stmt.where(Subscriber.id.in_(ids))).all()


def recipients_of(session: Session, reach: Reach, alert, settings,
                  batch_size: int = 1000) -> Iterator[list[Recipient]]:
    """Recipients of `reach`, one list per batch of residents (a resident never spans two)."""
    channels = [c for c in alert.channels if c in RESIDENT_CHANNELS]
    if not channels:
        return
    position = {c: 5 + i for i, c in enumerate(channels)}  # where its opt-out flag sits in a row
    chosen: dict[str, str] = {}  # resident language → tag of the text they get
    orders: dict[str | None, list[str]] = {}  # stored preference (JSON text) → channels to use
    conn = session.connection()  # Core on the session's connection: no ORM per row
    for rows in _row_batches(conn, reach, channels, batch_size):
        batch = []
        for row in rows:
            sub_id, phone, email, language, preferred = row[:5]
            order = orders.get(preferred)
            if order is None:
                # An empty preference means the default: every channel they have an address for.
                wants = json.loads(preferred) if preferred else None
                order = orders[preferred] = [c for c in dict.fromkeys(wants or RESIDENT_CHANNELS)
                                             if c in channels]
            language = language or settings.default_language
            text_language = chosen.get(language)
            if text_language is None:
                text_language = chosen[language] = message_language(alert, language, settings)
            for channel in order:
                address = phone if ADDRESS_OF[channel] == "phone" else email
                if address:
                    batch.append(Recipient(sub_id, channel, address, text_language,
                                           OPTED_OUT if row[position[channel]] else None, language))
        if batch:
            yield batch


def iter_recipients(session: Session, alert, settings,
                    batch_size: int = 1000) -> Iterator[list[Recipient]]:
    """Everyone the alert reaches, per channel, in batches of up to `batch_size` residents.

    Each resident appears once per channel (alert channels ∩ their preferred channels that
    they have an address for); opted-out channels come with skip_reason "opted out".
    Raises InvalidInput when the stored area is invalid.
    """
    yield from recipients_of(session, resolve(session, alert), alert, settings, batch_size)


def preview(session: Session, alert, settings) -> dict:
    """The DESIGN §4 preview: counts of residents, deliveries and languages, SMS cost, warnings."""
    reach = resolve(session, alert)
    deliveries = dict.fromkeys(RESIDENT_CHANNELS, 0)
    opted_out: Counter = Counter()
    languages: Counter = Counter()
    pairs: Counter = Counter()  # (text language, resident language) → residents reached
    recipients = with_any = 0
    for batch in recipients_of(session, reach, alert, settings, settings.batch_size):
        reached: dict[int, Recipient] = {}
        seen = set()
        for r in batch:
            seen.add(r.subscriber_id)
            if r.skip_reason:
                opted_out[r.channel] += 1
            else:
                deliveries[r.channel] += 1
                reached.setdefault(r.subscriber_id, r)
        with_any += len(seen)
        recipients += len(reached)
        pairs.update((r.language, r.resident_language) for r in reached.values())
    fallback: Counter = Counter()  # resident language with no text → how many
    for (text_language, resident_language), n in pairs.items():
        languages[text_language] += n
        if _base(text_language) != _base(resident_language):
            fallback[normalize(resident_language)] += n
    texts = {tag: render_sms(alert, tag, settings) for tag in alert.messages}
    warnings = _warnings(alert, reach, recipients, with_any, opted_out, languages, fallback)
    warnings += _sms_warnings(alert, texts)
    km2 = geo.area_km2(reach.area) + sum(geo.geometry_km2(z) for z in reach.zone_geometries)
    return {
        "recipients": recipients,
        "deliveries": deliveries,
        "languages": dict(languages.most_common()),
        "sms": {tag: sms_info(text) for tag, text in texts.items()},
        "warnings": warnings,
        "reasons": {"location": reach.by_location, "zone": reach.by_zone,
                    "everyone": reach.by_everyone},
        "area_km2": round(km2, 3),
    }


def _base(tag: str | None) -> str:
    return normalize(tag or "").split("-")[0]


def _warnings(alert, reach: Reach, recipients: int, with_any: int, opted_out: Counter,
              languages: Counter, fallback: Counter) -> list[str]:
    who = "member of the test group" if reach.test_only else "resident"
    if reach.count == 0:
        return [f"The area reaches no {who}."
                + (" Exercise and Test alerts go only to the test group." if reach.test_only else "")]
    out = []
    if reach.test_only:
        out.append(f"{alert.status} alert: only the {reach.count} members of the test group "
                   "it reaches will receive it.")
    missing = reach.count - with_any
    if missing:
        out.append(f"{missing} resident(s) reached take none of the alert's channels "
                   "(by their choice or for want of an address).")
    for channel, n in sorted(opted_out.items()):
        out.append(f"{n} resident(s) opted out of {channel} are left out.")
    for tag in alert.messages:
        if recipients and not languages.get(tag):
            out.append(f"Nobody reached gets the {tag!r} text.")
    if fallback:
        detail = ", ".join(f"{tag}: {n}" for tag, n in fallback.most_common())
        out.append(f"{sum(fallback.values())} resident(s) read a language with no text "
                   f"({detail}); they get the fallback text.")
    return out


def _sms_warnings(alert, texts: dict[str, str]) -> list[str]:
    """Point at the few stray characters (curly quotes, NBSP…) that make an SMS cost double."""
    if "sms" not in alert.channels:
        return []
    out = []
    for tag, text in texts.items():
        stray = non_gsm_characters(text)
        if 0 < len(stray) <= 3:
            names = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in stray)
            out.append(f"The {tag!r} SMS is UCS-2 (70 characters a segment instead of 160) "
                       f"because of {names}.")
    return out

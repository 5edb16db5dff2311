"""Whom an alert's area reaches (DESIGN §4), as sorted subscriber ids: the spatial half of the audience.

Locations come from an indexed bounding-box query as plain DB-API tuples in large chunks (the
fan-out), or from `notifier.reach_cache`'s arrays (the preview), and are refined by the same
code: shapely 2's vectorised `intersects_xy` and numpy haversine. Only matching subscriber ids
are kept (8 bytes each), so memory stays flat at a million residents.
"""
from __future__ import annotations

from dataclasses import dataclass
import numpy as np
import shapely
from sqlalchemy import BigInteger, and_, any_, bindparam, column, func, or_, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from notifier import geo, reach_cache, topics
from notifier.models import Location, Subscriber, SubscriberGroup, SubscriberZone, Zone
from notifier.reach_cache import TEST_GROUP, View, raw_chunks, sorted_unique

__all__ = ["TEST_GROUP", "Reach", "member_of", "only", "raw_chunks", "resolve", "sorted_unique"]


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
    topic: str | None = None  # only this topic's followers are reached (notifier.topics)

    @property
    def count(self) -> int:
        return self.by_everyone if self.ids is None else len(self.ids)


def resolve(session: Session, alert, area: geo.Area | None = None,
            cache: View | None = None) -> Reach:
    """Work out which residents the alert's area reaches (DESIGN §4 "Who an area reaches").

    (a) a location covered by a drawn shape or circle, or inside a named zone's polygon;
    (b) following a named zone, or a zone whose interior a drawn shape or circle overlaps.
    `area` is `alert.area` already parsed, if at hand; `cache` (the preview's) reads residents
    from memory instead of SQL, with the same rule. Raises InvalidInput when it is invalid.
    """
    area = area or geo.parse_area(alert.area)
    # Anything but a live alert reaches only the test group: a test must never go out as live.
    test_only = alert.status != "Actual"
    test_filter = select(SubscriberGroup.subscriber_id).where(SubscriberGroup.name == TEST_GROUP)
    # A routine alert about a topic reaches only its followers (DESIGN §12): their ids are
    # read once and the area's ids kept only if among them, as with the test group.
    topic = topics.audience_topic(alert)
    allowed = _ids(session, topics.followers(topic)) if topic else None
    if allowed is not None and test_only:
        allowed = only(allowed, _testers(session, cache))
    if area.everyone:
        if allowed is not None:
            return Reach(area, test_only, allowed, by_everyone=len(allowed), topic=topic)
        count = select(func.count()).select_from(Subscriber)
        if test_only:
            count = count.where(Subscriber.id.in_(test_filter))
        return Reach(area, test_only, None, by_everyone=session.execute(count).scalar_one())
    zones = _zones_near(session, area)
    named = [(code, shape) for code, shape in zones if code in area.zones]
    # Only drawn shapes and circles pull in followers of other zones, never a named zone.
    followed = set(area.zones) | {code for code, shape in zones
                                  if code not in area.zones and area.overlaps(shape)}
    if cache is not None:
        located = _cached_covered_ids(cache, area, named)
        followers = cache.followers(sorted(followed))
    else:
        located = _covered_ids(session, area, [shape for _, shape in named])
        followers = _ids(session, select(SubscriberZone.subscriber_id)
                         .where(SubscriberZone.zone_code.in_(sorted(followed)))) if followed else _none()
    if allowed is None and test_only:
        allowed = _testers(session, cache)
    if allowed is not None:
        located = only(located, allowed)
        followers = only(followers, allowed)
    return Reach(area, test_only, sorted_unique([located, followers]), by_location=len(located),
                 by_zone=len(followers), zone_geometries=tuple(shape for _, shape in named),
                 topic=topic)


def _testers(session: Session, cache: View | None) -> np.ndarray:
    if cache is not None:
        return cache.testers()
    return _ids(session, select(SubscriberGroup.subscriber_id)
                .where(SubscriberGroup.name == TEST_GROUP))


def reach_by_zone(session: Session, alert, limit: int = 20) -> dict[str, int]:
    """Residents each zone the alert names reaches on its own (its followers and the residents
    located inside its polygon), for the first `limit` named zones; a resident in two zones
    counts in both. Meant for the preview page: each zone's reach is kept in the cache.
    """
    area = geo.parse_area(alert.area)
    cache = reach_cache.view(session)
    return {code: resolve(session, alert, geo.parse_area({"zones": [code]}), cache).count
            for code in area.zones[:limit]}


def member_of(conn, ids: np.ndarray):
    """A WHERE clause "Subscriber.id is one of `ids`" that stays one parameter at any size.

    SQLite reads a JSON array through json_each, PostgreSQL an array through ANY: a
    200,000-item IN list would cost more to compile than to run.
    """
    if conn.dialect.name == "sqlite":
        text = "[" + ",".join(map(str, ids.tolist())) + "]"
        return Subscriber.id.in_(select(column("value")).select_from(func.json_each(text)))
    if conn.dialect.name == "postgresql":
        return Subscriber.id == any_(bindparam("reach_ids", ids.tolist(), type_=ARRAY(BigInteger)))
    return Subscriber.id.in_(ids.tolist())


def _none() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


def only(ids: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """The ids (sorted) that are also in `allowed` (sorted, distinct)."""
    if not allowed.size or not ids.size:
        return _none()
    at = np.searchsorted(allowed, ids).clip(max=allowed.size - 1)
    return ids[allowed[at] == ids]


def _ids(session: Session, stmt) -> np.ndarray:
    """Sorted distinct ids from a one-column select, read as raw tuples."""
    parts = [np.array(rows, dtype=np.int64).reshape(-1) for rows in raw_chunks(session, stmt)]
    return sorted_unique(parts)


def zones_near(area: geo.Area):
    """The SQL condition on zones the area names or whose box meets the area's (None: no
    zone can be concerned); the caller tests the shapes themselves."""
    wanted = [Zone.code.in_(area.zones)] if area.zones else []
    for west, south, east, north in area.boxes:
        wanted.append(and_(Zone.min_lat <= north, Zone.max_lat >= south,
                           Zone.min_lon <= east, Zone.max_lon >= west))
    if area.boxes:
        wanted.append(Zone.min_lat.is_(None))  # no stored box: look at the shape itself
    return or_(*wanted) if wanted else None


def _zones_near(session: Session, area: geo.Area) -> list[tuple[str, object]]:
    """(code, shapely geometry) of the named zones and of zones whose box meets the area's."""
    near = zones_near(area)
    if near is None:
        return []
    rows = session.execute(select(Zone.code, Zone.geometry).where(near))
    return [(code, geo.shape_of(geometry)) for code, geometry in rows if geometry]


def _cached_covered_ids(cache: View, area: geo.Area, named: list) -> np.ndarray:
    """`_covered_ids` on the cache's locations: the drawn area's boxes refined as there, and each
    named zone's kept reach (the residents inside its polygon, as `intersects_xy` says there)."""
    found = [cache.zone_reach(code, shape) for code, shape in named]
    if area.boxes:
        places = cache.locations()
        at = places.in_boxes(area.boxes)
        found.append(places.subscriber[at[area.covers(places.lat[at], places.lon[at])]])
    return sorted_unique(found)


def _covered_ids(session: Session, area: geo.Area, zone_shapes: list) -> np.ndarray:
    """Sorted ids of residents with a location in the drawn area or in a named zone's polygon."""
    boxes = list(area.boxes)
    zone_union = None
    if zone_shapes:
        zone_union = shapely.union_all(zone_shapes)
        shapely.prepare(zone_union)
        # A box per zone: two beats at opposite ends of town must not fetch the town between.
        boxes.extend(tuple(float(v) for v in shape.bounds) for shape in zone_shapes)
    if not boxes:
        return _none()
    if len(boxes) > geo.MAX_BOXES:
        boxes = [(min(b[0] for b in boxes), min(b[1] for b in boxes),
                  max(b[2] for b in boxes), max(b[3] for b in boxes))]
    # UNION ALL, not OR: SQLite's OR plan keeps a set of row ids to drop repeats, which costs
    # more than the rare repeat (a point on a band's edge) does; ids are made distinct below.
    selects = [select(Location.subscriber_id, Location.lat, Location.lon)
               .where(Location.lat.between(south, north), Location.lon.between(west, east))
               for west, south, east, north in boxes]
    stmt = selects[0] if len(selects) == 1 else union_all(*selects)
    found = []
    for rows in raw_chunks(session, stmt):
        block = np.array(rows, dtype=np.float64).reshape(-1, 3)
        lats, lons = block[:, 1], block[:, 2]
        hit = area.covers(lats, lons)
        if zone_union is not None:
            hit |= shapely.intersects_xy(zone_union, lons, lats)
        found.append(block[hit, 0].astype(np.int64))
    return sorted_unique(found)

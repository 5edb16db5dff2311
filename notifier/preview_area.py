"""The preview's checks of the area itself: drawn larger than any zone (the two-person rule
applies), and residents no area can reach (neither a location nor a zone)."""
from __future__ import annotations

import math

from sqlalchemy import func, select

from notifier import geo
from notifier.models import Location, Subscriber, SubscriberZone, Zone


def larger_than_any_zone(conn, area: geo.Area) -> bool:
    """True when the drawn shapes and circles cover more km² than the largest zone (the
    two-person rule applies: a slip of the mouse can cover a county)."""
    drawn = geo.area_km2(area)
    largest = _largest_zone(conn, drawn) if drawn > 0 else None
    return largest is not None and largest[1] < drawn


def area_warnings(conn, area: geo.Area, unplaced: int | None = None) -> tuple[list[str], bool]:
    """(warnings about the area itself: drawn larger than any zone, residents no area can
    reach; whether the drawn area is larger than any zone). `unplaced`: those residents,
    when already counted (`notifier.reach_cache`); None counts them here."""
    out = []
    larger = False
    drawn = geo.area_km2(area)
    if drawn > 0:
        largest = _largest_zone(conn, drawn)
        if largest is not None and largest[1] < drawn:
            larger = True
            out.append(f"The drawn area ({drawn:,.1f} km²) is larger than any zone (none exceeds "
                       f"{largest[1]:,.1f} km²): check it is the area you meant.")
    if not area.everyone:
        if unplaced is None:
            unplaced = _unplaced(conn)
        if unplaced:
            out.append(f"{unplaced} resident(s) have no location and no zone: only an alert to "
                       "everyone reaches them.")
    return out, larger


def _largest_zone(conn, than_km2: float) -> tuple[str, float] | None:
    """(code, km²) of the largest zone, or None without zones.

    A zone is never larger than its bounding box, so only zones whose box exceeds `than_km2`
    have their polygon measured: exact, without loading every shape of a 40,000-zone table.
    """
    boxes = conn.execute(select(Zone.code, Zone.min_lat, Zone.min_lon, Zone.max_lat, Zone.max_lon)
                            .where(Zone.min_lat.is_not(None))).all()
    if not boxes:
        return None
    box_km2 = {code: geo.EARTH_RADIUS_M ** 2 * math.radians(e - w)
               * abs(math.sin(math.radians(n)) - math.sin(math.radians(s))) / 1e6
               for code, s, w, n, e in boxes}
    bigger = [code for code, km2 in box_km2.items() if km2 >= than_km2]
    if not bigger:
        code = max(box_km2, key=box_km2.get)
        return code, box_km2[code]  # its box: an upper bound, and already smaller
    shapes = conn.execute(select(Zone.code, Zone.geometry).where(Zone.code.in_(bigger))).all()
    return max(((code, geo.geometry_km2(geo.shape_of(g))) for code, g in shapes if g),
               key=lambda item: item[1])


def _unplaced(conn) -> int:
    """Residents with neither a location nor a zone: no area can reach them.

    Counted as all − with a location − (zone followers without a location): two index scans,
    where a NOT EXISTS per subscriber would read every subscriber row.
    """
    everyone = conn.execute(select(func.count()).select_from(Subscriber)).scalar_one()
    located = conn.execute(select(func.count(Location.subscriber_id.distinct()))).scalar_one()
    if everyone == located:
        return 0
    followers_only = conn.execute(
        select(func.count(SubscriberZone.subscriber_id.distinct())).where(
            ~select(Location.id).where(Location.subscriber_id == SubscriberZone.subscriber_id).exists())
    ).scalar_one()
    return everyone - located - followers_only

"""Which zones an alert concerns: those it names, and those its drawn shapes or circles overlap.

One answer for the public page's list, the per-zone feeds and the zones' own social accounts.
"""
from __future__ import annotations

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier import geo
from notifier.errors import InvalidInput
from notifier.models import Alert, Zone
from notifier.reach import zones_near


def area_of(alert: Alert) -> geo.Area:
    """The alert's stored area, parsed (validated when written; an odd old row keeps its zones)."""
    try:
        return geo.parse_area(alert.area or {})
    except InvalidInput:
        area = alert.area or {}
        zones = tuple(z for z in area.get("zones") or [] if isinstance(z, str))
        return geo.Area(description=area.get("description"), zones=zones,
                        everyone=area.get("everyone") is True)


def concerns(area: geo.Area, code: str, shape) -> bool:
    """True when an area concerns the zone `code` with geometry `shape` (None: no outline).

    As for who an area reaches (DESIGN §4): the area names the zone, or a drawn shape or
    circle overlaps its interior (touching its border does not count). An alert for everyone
    concerns every zone. Naming another zone whose outline overlaps this one does not.
    """
    if area.everyone or code in area.zones:
        return True
    if shape is None or not area.boxes:
        return False
    west, south, east, north = shapely.bounds(shape)
    if not any(b[0] <= east and b[2] >= west and b[1] <= north and b[3] >= south
               for b in area.boxes):
        return False  # the cheap test first: most alerts are nowhere near most zones
    return area.overlaps(shape)


def zones_of(session: Session, alert: Alert, area: geo.Area | None = None) -> list[Zone]:
    """The zones the alert concerns, by name: those it names and those its drawn shapes or
    circles overlap (every zone for an alert to everyone)."""
    area = area or area_of(alert)
    if area.everyone:
        return list(session.scalars(select(Zone).order_by(Zone.name)))
    wanted = zones_near(area)
    if wanted is None:
        return []
    near = session.scalars(select(Zone).where(wanted).order_by(Zone.name))
    return [z for z in near
            if concerns(area, z.code, geo.shape_of(z.geometry) if z.geometry else None)]

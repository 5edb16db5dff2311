"""Areas as CAP 1.2 writes them: `<polygon>` ("lat,lon" pairs, closed) and `<circle>` ("lat,lon km")."""
from __future__ import annotations

import math

from notifier.errors import InvalidInput
from notifier.geo import Area, parse_circles
from notifier.geojson import parse_geometry

def _fmt(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def to_cap_polygons(area: Area) -> list[str]:
    """CAP <polygon> values, "lat,lon lat,lon …" closed, one per drawn polygon.

    CAP polygons have no holes, so a hole is left out: CAP readers see the outer ring.
    """
    if area.geometry is None:
        return []
    out = []
    for poly in getattr(area.geometry, "geoms", [area.geometry]):
        out.append(" ".join(f"{_fmt(lat)},{_fmt(lon)}" for lon, lat, *_ in poly.exterior.coords))
    return out


def to_cap_circles(area: Area) -> list[str]:
    """CAP <circle> values, "lat,lon radius_km"."""
    return [f"{_fmt(c.lat)},{_fmt(c.lon)} {_fmt(c.radius_m / 1000)}" for c in area.circles]


def from_cap_polygon(value: str) -> dict:
    """GeoJSON Polygon from a CAP <polygon> ("lat,lon lat,lon …", closed, ≥ 4 pairs).

    Raises InvalidInput({"polygon": [...]}) on malformed text; the ring is checked like any
    drawn shape (closed, in range, not self-intersecting) and never repaired.
    """
    ring = []
    for i, pair in enumerate((value or "").split()):
        lat, lon = cap_pair(pair, "polygon", f"pair {i}")
        ring.append([lon, lat])
    if not ring:
        raise InvalidInput({"polygon": ["is empty: expected \"lat,lon lat,lon …\""]})
    polygon = {"type": "Polygon", "coordinates": [ring]}
    parse_geometry(polygon, "polygon")
    return polygon


def from_cap_circle(value: str) -> dict:
    """A circle dict {"lat", "lon", "radius_m"} from a CAP <circle> ("lat,lon radius_km").

    Raises InvalidInput({"circle": [...]}) when malformed, out of range, or radius ≤ 0 or > 200 km.
    """
    parts = (value or "").split()
    if len(parts) != 2:
        raise InvalidInput({"circle": [f"expected \"lat,lon radius_km\", got {value!r}"]})
    lat, lon = cap_pair(parts[0], "circle", "centre")
    try:
        radius_km = float(parts[1])
    except ValueError:
        raise InvalidInput({"circle": [f"radius {parts[1]!r} is not a number of km"]}) from None
    circle = {"lat": lat, "lon": lon, "radius_m": radius_km * 1000}
    errors: list[str] = []
    parse_circles([circle], errors)
    if errors:
        raise InvalidInput({"circle": [e.replace("circles[0] ", "") for e in errors]})
    return circle


def cap_pair(pair: str, field_name: str, where: str) -> tuple[float, float]:
    """(lat, lon) of a CAP "lat,lon" pair; InvalidInput({field_name: [...]}) when it is not one."""
    lat, sep, lon = pair.partition(",")
    try:
        values = float(lat), float(lon)
    except ValueError:
        values = None
    if not sep or values is None or not all(map(math.isfinite, values)):
        raise InvalidInput({field_name: [f"{where} {pair!r} is not \"lat,lon\" in decimal degrees"]})
    return values

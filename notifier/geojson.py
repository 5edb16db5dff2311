"""GeoJSON as dispatchers and zone files send it: strict validation into shapely polygons.

Checked by hand before shapely sees it, because shapely silently closes rings and repair
(`make_valid`) can grow an area: a shape is either exactly what was sent or refused, with a
message that says what is wrong and where.
"""
from __future__ import annotations

import math
import re
from numbers import Real

import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from notifier.errors import InvalidInput

MAX_VERTICES = 10_000
MAX_MESSAGES = 20  # a wildly wrong upload gets the first problems, not thousands

def parse_geometry(geojson, field_name: str = "geometry") -> BaseGeometry:
    """Return a validated (Multi)Polygon from GeoJSON (e.g. a zone's); raises InvalidInput."""
    errors: list[str] = []
    geometry = parse(geojson, field_name, errors)
    if errors or geometry is None:
        raise InvalidInput({field_name: (errors or ["must be a Polygon or MultiPolygon"])[:MAX_MESSAGES]})
    return geometry


def shape_of(geojson: dict) -> BaseGeometry:
    """Shapely geometry of stored GeoJSON already validated on the way in (zones)."""
    return shapely.geometry.shape(geojson)


def parse(obj, path: str, errors: list[str]) -> BaseGeometry | None:
    """Validate a Geometry/Feature/FeatureCollection; return the union of its polygons.

    Messages name the place in words a dispatcher can find ("Shape 2's outline, point 3"),
    counted from 1; `path` (the field) is the key the caller files them under.
    """
    polygons: list[tuple[str, list]] = []  # (place, list of rings) per polygon
    _collect(obj, ROOT, polygons, errors)
    if errors:
        return None
    if not polygons:
        return None
    total = sum(len(ring) for _, rings in polygons for ring in rings)
    if total > MAX_VERTICES:
        errors.append(f"The area has {total:,} points; at most {MAX_VERTICES:,} are allowed: "
                      "simplify the shape")
        return None
    for where, rings in polygons:
        for i, ring in enumerate(rings):
            _check_ring(ring, _ring_place(where, i), errors)
    if errors:
        return None
    shapes = []
    for where, rings in polygons:
        poly = shapely.Polygon(rings[0], rings[1:])
        reason = shapely.is_valid_reason(poly)
        if reason != "Valid Geometry":
            errors.append(_explain(where, reason))
        shapes.append(poly)
    if errors:
        return None
    return shapes[0] if len(shapes) == 1 else shapely.union_all(shapes)


ROOT = "The shape"


def _ring_place(where: str, i: int) -> str:
    return f"{where}'s outline" if i == 0 else f"{where}'s hole {i}"


def _collect(obj, where: str, polygons: list, errors: list[str]) -> None:
    if not isinstance(obj, dict):
        errors.append("The shape must be GeoJSON: a Polygon, MultiPolygon, Feature or "
                      "FeatureCollection")
        return
    kind = obj.get("type")
    if kind == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list) or not features:
            errors.append("The FeatureCollection holds no shapes: its features must be a "
                          "non-empty list")
            return
        for i, feature in enumerate(features):
            place = f"Shape {i + 1}"
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                errors.append(f"{place} must be a GeoJSON Feature")
            else:
                _collect_geometry(feature.get("geometry"), place, polygons, errors)
    elif kind == "Feature":
        _collect_geometry(obj.get("geometry"), where, polygons, errors)
    else:
        _collect_geometry(obj, where, polygons, errors)


def _collect_geometry(geom, where: str, polygons: list, errors: list[str]) -> None:
    if not isinstance(geom, dict):
        errors.append(f"{where} has no geometry")
        return
    kind, coords = geom.get("type"), geom.get("coordinates")
    if kind == "Polygon":
        if _is_rings(coords, where, errors):
            polygons.append((where, coords))
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            errors.append(f"{where} has no polygons: its coordinates must be a non-empty list")
            return
        for i, rings in enumerate(coords):
            if _is_rings(rings, f"{where}, part {i + 1}", errors):
                polygons.append((f"{where}, part {i + 1}", rings))
    else:
        errors.append(f"{where} is a {kind or 'shape with no type'}: only areas (Polygon and "
                      "MultiPolygon) are accepted, not points or lines")


def _is_rings(coords, where: str, errors: list[str]) -> bool:
    """True when coords is a list of rings of positions of two or three numbers."""
    if not isinstance(coords, list) or not coords:
        errors.append(f"{where} has no outline: its coordinates must be a non-empty list of rings")
        return False
    for i, ring in enumerate(coords):
        if not isinstance(ring, list):
            errors.append(f"{_ring_place(where, i)} must be a list of points")
            return False
        for j, pos in enumerate(ring):
            if (not isinstance(pos, list) or len(pos) not in (2, 3)
                    or not all(is_number(v) for v in pos)):
                errors.append(f"{_ring_place(where, i)}, point {j + 1} must be "
                              "[longitude, latitude] numbers")
                return False
    return True


def is_number(v) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v)


def _check_ring(ring: list, where: str, errors: list[str]) -> None:
    for j, pos in enumerate(ring):
        problem = position_problem(pos[0], pos[1])
        if problem:
            errors.append(f"{where}, point {j + 1}: {problem}")
            return  # one message per ring: a swapped file would otherwise list every vertex
    if len(ring) < 4:
        errors.append(f"{where} has {len(ring)} points; it needs at least 4 "
                      "(the first repeated at the end)")
    elif list(ring[0][:2]) != list(ring[-1][:2]):
        errors.append(f"{where} is not closed: its last point must repeat its first")


def position_problem(lon: float, lat: float) -> str | None:
    """What is wrong with a GeoJSON [lon, lat] position, or None."""
    bad = []
    if not -180 <= lon <= 180:
        bad.append(f"longitude {lon:g} is out of range (-180 to 180)")
    if not -90 <= lat <= 90:
        bad.append(f"latitude {lat:g} is out of range (-90 to 90)")
    if not bad:
        return None
    message = " and ".join(bad)
    if -90 <= lon <= 90 and -180 <= lat <= 180:
        message += "; looks like lat/lon are swapped (GeoJSON positions are [longitude, latitude])"
    return message


def _explain(where: str, reason: str) -> str:
    """Turn GEOS' 'Self-intersection[0.5 0.5]' into words a dispatcher can act on.

    The place is given as "lat, lon" (how people read coordinates), not GeoJSON's lon/lat.
    """
    match = re.match(r"([^\[]+)\[([-\d.eE+]+) ([-\d.eE+]+)", reason)
    if not match:
        return f"{where} is not a valid area: {reason.lower()}"
    what, lon, lat = match.groups()
    near = f"near {float(lat):g}, {float(lon):g}"
    if what.strip().lower() in ("self-intersection", "ring self-intersection"):
        return (f"{where} crosses itself {near}; "
                "move or remove points there so its edges do not cross")
    return f"{where} is not a valid area: {what.strip().lower()} {near}"

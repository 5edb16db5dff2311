"""Alert areas: strict validation of what a dispatcher drew, point-in-area tests, CAP shapes.

GeoJSON is checked by hand before shapely sees it, because shapely silently closes rings and
repair (`make_valid`) can grow an area: a dispatcher's area is either exactly right or refused.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from numbers import Real

import numpy as np
import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from notifier.errors import InvalidInput

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG); haversine error stays under 0.5 %
MAX_VERTICES = 10_000
MAX_RADIUS_M = 200_000
MAX_BOXES = 20  # more prefilter boxes than this are merged into one envelope
_MAX_MESSAGES = 20  # a wildly wrong upload gets the first problems, not thousands


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class Area:
    """A validated area. `geometry` (drawn shapes, prepared) is None when nothing was drawn."""

    description: str | None = None
    geometry: BaseGeometry | None = None
    circles: tuple[Circle, ...] = ()
    zones: tuple[str, ...] = ()
    everyone: bool = False
    boxes: tuple[tuple[float, float, float, float], ...] = field(default=(), repr=False)

    @property
    def bbox(self) -> tuple[float, float, float, float] | None:
        """(min_lon, min_lat, max_lon, max_lat) of drawn shapes and circles, None if neither.

        A circle across the antimeridian widens this to the whole range of longitudes;
        use `boxes` for a tight prefilter.
        """
        if not self.boxes:
            return None
        return (min(b[0] for b in self.boxes), min(b[1] for b in self.boxes),
                max(b[2] for b in self.boxes), max(b[3] for b in self.boxes))

    def covers(self, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
        """Boolean array: each point is on or inside a drawn shape (not in a hole) or a circle."""
        lats = np.asarray(lats, dtype=float)
        lons = np.asarray(lons, dtype=float)
        hit = np.zeros(lats.shape, dtype=bool)
        if self.geometry is not None:
            # intersects (unlike contains) counts the boundary; a hole's interior is outside.
            hit |= shapely.intersects_xy(self.geometry, lons, lats)
        for c in self.circles:
            hit |= haversine_m(c.lat, c.lon, lats, lons) <= c.radius_m
        return hit

    def overlaps(self, other: BaseGeometry) -> bool:
        """True when a drawn shape or circle shares interior with `other` (a zone's polygon).

        Shapes that only touch along a border or at a corner do not overlap.
        """
        if self.geometry is not None and shapely.relate_pattern(self.geometry, other, "T********"):
            return True
        return any(circle_overlaps(c, other) for c in self.circles)


def haversine_m(lat0: float, lon0: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Great-circle distances in metres from (lat0, lon0) to each point."""
    p0, p = math.radians(lat0), np.radians(lats)
    dlat = p - p0
    dlon = np.radians(lons) - math.radians(lon0)
    h = np.sin(dlat / 2) ** 2 + math.cos(p0) * np.cos(p) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def circle_overlaps(c: Circle, other: BaseGeometry) -> bool:
    """True when `other` comes strictly closer than the radius to the circle's centre.

    Measured on a local equirectangular projection around the centre: at ≤ 200 km the error
    is a fraction of a percent, enough to decide whose zone an alert reaches into.
    """
    metres_per_degree = EARTH_RADIUS_M * math.pi / 180
    cos_lat = math.cos(math.radians(c.lat))

    def project(xy: np.ndarray) -> np.ndarray:
        dlon = (xy[:, 0] - c.lon + 180) % 360 - 180  # across the antimeridian too
        return np.column_stack((dlon * cos_lat * metres_per_degree,
                                (xy[:, 1] - c.lat) * metres_per_degree))

    return shapely.distance(shapely.transform(other, project), shapely.Point(0, 0)) < c.radius_m


def circle_boxes(c: Circle) -> list[tuple[float, float, float, float]]:
    """Boxes (min_lon, min_lat, max_lon, max_lat) covering a circle; two across the antimeridian."""
    angle = c.radius_m / EARTH_RADIUS_M
    dlat = math.degrees(angle)
    south, north = c.lat - dlat, c.lat + dlat
    if north >= 90 or south <= -90:  # the circle holds a pole: every longitude
        return [(-180.0, max(south, -90.0), 180.0, min(north, 90.0))]
    # Widest longitude reach on a sphere is at the tangent meridians, not at the centre's latitude.
    dlon = math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(math.radians(c.lat)))))
    west, east = c.lon - dlon, c.lon + dlon
    if west < -180:
        return [(west + 360, south, 180.0, north), (-180.0, south, east, north)]
    if east > 180:
        return [(west, south, 180.0, north), (-180.0, south, east - 360, north)]
    return [(west, south, east, north)]


def parse_area(area: dict, known_zones: set[str] | None = None) -> Area:
    """Return the validated `Area` for a DESIGN §4 area dict.

    Raises InvalidInput({"area": [messages]}) naming every problem found and where it is.
    Zone codes are checked against `known_zones` when given.
    """
    if not isinstance(area, dict):
        raise InvalidInput({"area": ["must be an object"]})
    errors: list[str] = []
    everyone = area.get("everyone", False)
    if not isinstance(everyone, bool):
        errors.append("everyone must be true or false")
        everyone = False
    description = area.get("description")
    if description is not None and not isinstance(description, str):
        errors.append("description must be text")
        description = None
    geometry = None
    if area.get("geojson") is not None:
        geometry = _parse_geojson(area["geojson"], "geojson", errors)
    circles = _parse_circles(area.get("circles") or [], errors)
    zones = _parse_zones(area.get("zones") or [], known_zones, errors)
    if not errors and geometry is None and not circles and not zones and not everyone:
        errors.append("the area is empty: draw a shape or a circle, name a zone, or choose everyone")
    if errors:
        raise InvalidInput({"area": errors[:_MAX_MESSAGES]})
    boxes: list[tuple[float, float, float, float]] = []
    if geometry is not None:
        shapely.prepare(geometry)
        boxes.append(tuple(float(v) for v in geometry.bounds))
    for c in circles:
        boxes.extend(circle_boxes(c))
    if len(boxes) > MAX_BOXES:
        boxes = [(min(b[0] for b in boxes), min(b[1] for b in boxes),
                  max(b[2] for b in boxes), max(b[3] for b in boxes))]
    return Area(description, geometry, tuple(circles), tuple(zones), everyone, tuple(boxes))


def parse_geometry(geojson, field_name: str = "geometry") -> BaseGeometry:
    """Return a validated (Multi)Polygon from GeoJSON (e.g. a zone's); raises InvalidInput."""
    errors: list[str] = []
    geometry = _parse_geojson(geojson, field_name, errors)
    if errors or geometry is None:
        raise InvalidInput({field_name: (errors or ["must be a Polygon or MultiPolygon"])[:_MAX_MESSAGES]})
    return geometry


def shape_of(geojson: dict) -> BaseGeometry:
    """Shapely geometry of stored GeoJSON already validated on the way in (zones)."""
    return shapely.geometry.shape(geojson)


def _parse_geojson(obj, path: str, errors: list[str]) -> BaseGeometry | None:
    """Validate a Geometry/Feature/FeatureCollection; return the union of its polygons."""
    polygons: list[tuple[str, list]] = []  # (path, list of rings) per polygon
    _collect(obj, path, polygons, errors)
    if errors:
        return None
    if not polygons:
        return None
    total = sum(len(ring) for _, rings in polygons for ring in rings)
    if total > MAX_VERTICES:
        errors.append(f"{path} has {total} vertices; at most {MAX_VERTICES} are allowed")
        return None
    for where, rings in polygons:
        for i, ring in enumerate(rings):
            _check_ring(ring, f"{where} ring {i}", errors)
    if errors:
        return None
    shapes = []
    for where, rings in polygons:
        poly = shapely.Polygon(rings[0], rings[1:])
        reason = shapely.is_valid_reason(poly)
        if reason != "Valid Geometry":
            errors.append(f"{where} is not a valid polygon: {_explain(reason)}")
        shapes.append(poly)
    if errors:
        return None
    return shapes[0] if len(shapes) == 1 else shapely.union_all(shapes)


def _collect(obj, path: str, polygons: list, errors: list[str]) -> None:
    if not isinstance(obj, dict):
        errors.append(f"{path} must be a GeoJSON object")
        return
    kind = obj.get("type")
    if kind == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list) or not features:
            errors.append(f"{path}.features must be a non-empty list")
            return
        for i, feature in enumerate(features):
            where = f"{path}.features[{i}]"
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                errors.append(f"{where} must be a Feature")
            else:
                _collect_geometry(feature.get("geometry"), where, polygons, errors)
    elif kind == "Feature":
        _collect_geometry(obj.get("geometry"), path, polygons, errors)
    else:
        _collect_geometry(obj, path, polygons, errors)


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
            errors.append(f"{where} coordinates must be a non-empty list of polygons")
            return
        for i, rings in enumerate(coords):
            if _is_rings(rings, f"{where} polygon {i}", errors):
                polygons.append((f"{where} polygon {i}", rings))
    else:
        errors.append(f"{where} is a {kind or 'shape with no type'}: only Polygon and MultiPolygon "
                      "geometries are accepted")


def _is_rings(coords, where: str, errors: list[str]) -> bool:
    """True when coords is a list of rings of positions of two or three numbers."""
    if not isinstance(coords, list) or not coords:
        errors.append(f"{where} coordinates must be a non-empty list of rings")
        return False
    for i, ring in enumerate(coords):
        if not isinstance(ring, list):
            errors.append(f"{where} ring {i} must be a list of positions")
            return False
        for j, pos in enumerate(ring):
            if (not isinstance(pos, list) or len(pos) not in (2, 3)
                    or not all(_is_number(v) for v in pos)):
                errors.append(f"{where} ring {i} position {j} must be [longitude, latitude] numbers")
                return False
    return True


def _is_number(v) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v)


def _check_ring(ring: list, where: str, errors: list[str]) -> None:
    for j, pos in enumerate(ring):
        problem = _position_problem(pos[0], pos[1])
        if problem:
            errors.append(f"{where} position {j}: {problem}")
            return  # one message per ring: a swapped file would otherwise list every vertex
    if len(ring) < 4:
        errors.append(f"{where} has {len(ring)} positions; a ring needs at least 4 "
                      "(the first repeated at the end)")
    elif list(ring[0][:2]) != list(ring[-1][:2]):
        errors.append(f"{where} is not closed: its last position must repeat its first")


def _position_problem(lon: float, lat: float) -> str | None:
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


def _explain(reason: str) -> str:
    """Turn GEOS' 'Self-intersection[0.5 0.5]' into words with lon/lat named."""
    match = re.match(r"([^\[]+)\[([-\d.eE+]+) ([-\d.eE+]+)", reason)
    if not match:
        return reason.lower()
    what, lon, lat = match.groups()
    return f"{what.strip().lower()} at longitude {float(lon):g}, latitude {float(lat):g}"


def _parse_circles(circles, errors: list[str]) -> list[Circle]:
    if not isinstance(circles, list):
        errors.append("circles must be a list")
        return []
    out = []
    for i, c in enumerate(circles):
        where = f"circles[{i}]"
        if not isinstance(c, dict) or not all(_is_number(c.get(k)) for k in ("lat", "lon", "radius_m")):
            errors.append(f"{where} needs numbers lat, lon and radius_m")
            continue
        lat, lon, radius = float(c["lat"]), float(c["lon"]), float(c["radius_m"])
        ok = True
        problem = _position_problem(lon, lat)
        if problem:
            ok = False
            errors.append(f"{where} centre: {problem.replace(' (GeoJSON positions are [longitude, latitude])', '')}")
        if not 0 < radius <= MAX_RADIUS_M:
            ok = False
            errors.append(f"{where} radius_m must be more than 0 and at most {MAX_RADIUS_M} "
                          f"(200 km), got {radius:g}")
        if ok:
            out.append(Circle(lat, lon, radius))
    return out


def _parse_zones(zones, known: set[str] | None, errors: list[str]) -> list[str]:
    if not isinstance(zones, list) or not all(isinstance(z, str) and z for z in zones):
        errors.append("zones must be a list of zone codes")
        return []
    unique = list(dict.fromkeys(zones))
    if known is not None:
        for code in unique:
            if code not in known:
                errors.append(f"unknown zone code {code!r}")
    return unique


def geometry_km2(geometry: BaseGeometry) -> float:
    """Rough geodesic area of a (Multi)Polygon in km² (spherical polygon formula per ring)."""
    total = 0.0
    for poly in getattr(geometry, "geoms", [geometry]):
        total += abs(_ring_m2(poly.exterior.coords))
        total -= sum(abs(_ring_m2(r.coords)) for r in poly.interiors)
    return total / 1e6


def _ring_m2(coords) -> float:
    xy = np.radians(np.asarray(coords)[:, :2])
    lon, lat = xy[:, 0], xy[:, 1]
    # Chamberlain & Duquette (JPL 2007): sum of (λ[i+1] − λ[i−1]) · sin φ[i] over the ring.
    return float(np.sum((np.roll(lon, -1) - np.roll(lon, 1)) * np.sin(lat)) * EARTH_RADIUS_M ** 2 / 2)


def area_km2(area: Area | dict) -> float:
    """Rough area in km² of drawn shapes plus circles (overlaps counted twice; zones excluded)."""
    if isinstance(area, dict):
        area = parse_area(area)
    total = geometry_km2(area.geometry) if area.geometry is not None else 0.0
    for c in area.circles:  # spherical cap
        total += 2 * math.pi * EARTH_RADIUS_M ** 2 * (1 - math.cos(c.radius_m / EARTH_RADIUS_M)) / 1e6
    return total


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

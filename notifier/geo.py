"""Alert areas: drawn shapes, circles, zone codes; point-in-area tests and size.

The GeoJSON itself is validated by `notifier.geojson`; a dispatcher's area is either exactly
what was drawn or refused, never repaired.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from notifier import geojson
from notifier.errors import InvalidInput
from notifier.geojson import MAX_VERTICES, parse_geometry, shape_of  # noqa: F401 - re-exported for callers

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
MAX_RADIUS_M = 200_000
MAX_BOXES = 40  # more prefilter boxes than this are merged into one envelope
STRIPS = 12  # a drawn shape's prefilter: this many latitude bands, each as wide as the shape there
EDGE_STEP_DEGREES = 0.02


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

    Measured on an azimuthal equidistant projection centred on the circle: there every
    vertex's distance from the centre is its exact great-circle distance, at the poles and
    across the antimeridian too. Edges are first cut into ≤ 0.02° pieces so that straightening
    them in the projection moves them by centimetres, not metres.
    """
    dense = shapely.segmentize(other, EDGE_STEP_DEGREES)
    return shapely.distance(shapely.transform(dense, lambda xy: _equidistant(c, xy)),
                            shapely.Point(0, 0)) < c.radius_m


def _equidistant(c: Circle, xy: np.ndarray) -> np.ndarray:
    phi0, lam0 = math.radians(c.lat), math.radians(c.lon)
    phi, dlam = np.radians(xy[:, 1]), np.radians(xy[:, 0]) - lam0
    cos_c = np.clip(math.sin(phi0) * np.sin(phi) + math.cos(phi0) * np.cos(phi) * np.cos(dlam), -1, 1)
    angle = np.arccos(cos_c)
    sin_c = np.sin(angle)
    k = np.divide(angle, sin_c, out=np.ones_like(angle), where=sin_c > 1e-12)
    x = k * np.cos(phi) * np.sin(dlam)
    y = k * (math.cos(phi0) * np.sin(phi) - math.sin(phi0) * np.cos(phi) * np.cos(dlam))
    return np.column_stack((x, y)) * EARTH_RADIUS_M


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


def shape_boxes(shape: BaseGeometry, strips: int = STRIPS) -> list[tuple[float, float, float, float]]:
    """Boxes covering `shape`: latitude bands, each only as wide as the shape within it.

    A round or slanted shape fills about half its bounding box; bands cut the rows the
    database hands over for refinement. Bands share edges, so a point there is in both.
    """
    west, south, east, north = (float(v) for v in shape.bounds)
    if north - south <= 0 or strips <= 1:
        return [(west, south, east, north)]
    edges = np.linspace(south, north, strips + 1)
    edges[-1] = north
    boxes = []
    for s, n in zip(edges[:-1].tolist(), edges[1:].tolist()):
        # intersection (not clip_by_rect) keeps a vertex or edge that only touches the band
        piece = shapely.intersection(shape, shapely.box(west, s, east, n))
        if not piece.is_empty:
            w, _, e, _ = piece.bounds
            boxes.append((max(west, w - 1e-9), s, min(east, e + 1e-9), n))
    return boxes


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
        geometry = geojson.parse(area["geojson"], "geojson", errors)
    circles = parse_circles(area.get("circles") or [], errors)
    zones = _parse_zones(area.get("zones") or [], known_zones, errors)
    if not errors and geometry is None and not circles and not zones and not everyone:
        errors.append("the area is empty: draw a shape or a circle, name a zone, or choose everyone")
    if errors:
        raise InvalidInput({"area": errors[:geojson.MAX_MESSAGES]})
    boxes: list[tuple[float, float, float, float]] = []
    if geometry is not None:
        shapely.prepare(geometry)
        boxes.extend(shape_boxes(geometry))
    for c in circles:
        boxes.extend(circle_boxes(c))
    if len(boxes) > MAX_BOXES:
        boxes = [(min(b[0] for b in boxes), min(b[1] for b in boxes),
                  max(b[2] for b in boxes), max(b[3] for b in boxes))]
    return Area(description, geometry, tuple(circles), tuple(zones), everyone, tuple(boxes))



def parse_circles(circles, errors: list[str]) -> list[Circle]:
    if not isinstance(circles, list):
        errors.append("circles must be a list")
        return []
    out = []
    for i, c in enumerate(circles):
        where = f"Circle {i + 1}"
        if not isinstance(c, dict) or not all(geojson.is_number(c.get(k)) for k in ("lat", "lon", "radius_m")):
            errors.append(f"{where} needs numbers lat, lon and radius_m (its centre and radius in metres)")
            continue
        lat, lon, radius = float(c["lat"]), float(c["lon"]), float(c["radius_m"])
        ok = True
        problem = geojson.position_problem(lon, lat)
        if problem:
            ok = False
            errors.append(f"{where}'s centre: {problem.replace(' (GeoJSON positions are [longitude, latitude])', '')}")
        if not 0 < radius <= MAX_RADIUS_M:
            ok = False
            errors.append(f"{where}'s radius must be more than 0 and at most {MAX_RADIUS_M:,} m "
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
                errors.append(f"There is no zone {code!r}: choose zones from the list")
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

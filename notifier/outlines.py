"""Zone outlines for a map: simplified GeoJSON, small enough to embed in a page.

For drawing only: reach, approval and CAP documents always use the stored geometry.
"""
from __future__ import annotations

import numpy as np
import shapely
import shapely.geometry

from notifier.geojson import shape_of

# About 11 m: under three pixels at zoom 15, the closest the maps fit a town's zones.
TOLERANCE_DEG = 0.0001
# Coarser tolerances are tried up to this (about 1 km) before an outline is left as it is.
MAX_TOLERANCE_DEG = 0.01
# Vertices shared by every outline on one page (about 1 MB of JSON), the most one zone keeps
# (a map a screen wide shows no more) and the least each gets.
PAGE_VERTICES = 50_000
ZONE_VERTICES = 500
MIN_VERTICES = 40
DECIMALS = 5  # about 1 m


def vertex_cap(zone_count: int) -> int:
    """Vertices each of `zone_count` outlines may keep so the page stays within PAGE_VERTICES."""
    return max(MIN_VERTICES, min(ZONE_VERTICES, PAGE_VERTICES // max(zone_count, 1)))


def outline(geojson: dict, max_vertices: int) -> dict:
    """A GeoJSON (Multi)Polygon that looks like `geojson` on a map, with at most about
    `max_vertices` vertices (topology kept: rings neither cross nor vanish)."""
    shape = shape_of(geojson)
    tolerance = TOLERANCE_DEG
    # The tolerance is searched with the fast simplification, then applied once keeping topology
    # (ten times slower on a 10,000-vertex zone).
    while (tolerance < MAX_TOLERANCE_DEG and shapely.get_num_coordinates(
            shape.simplify(tolerance, preserve_topology=False)) > max_vertices):
        tolerance *= 2
    simple = shape.simplify(tolerance, preserve_topology=True)
    rounded = shapely.transform(simple, lambda xy: np.round(xy, DECIMALS))
    return shapely.geometry.mapping(rounded)

"""notifier.outlines: zone outlines simplified for a map, close to the stored shape."""
import math

import shapely
import shapely.geometry

from notifier import outlines


def jagged(vertices: int = 10_000, west: float = -71.08, south: float = 42.34) -> dict:
    """A closed ring of `vertices` points (the last repeats the first): a wavy oval of ~3 km."""
    n = vertices - 1
    ring = [[west + 0.02 + 0.02 * math.cos(2 * math.pi * i / n) * (1 + 0.03 * math.sin(97 * i)),
             south + 0.015 + 0.015 * math.sin(2 * math.pi * i / n)] for i in range(n)]
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


def test_a_10000_vertex_zone_becomes_a_valid_outline_within_the_cap_and_close_to_it():
    stored = shapely.geometry.shape(jagged())
    shape = shapely.geometry.shape(outlines.outline(jagged(), 200))
    assert shapely.get_num_coordinates(shape) <= 200
    assert shape.is_valid
    assert stored.symmetric_difference(shape).area / stored.area < 0.05


def test_a_simple_zone_is_drawn_exactly_as_stored():
    square = {"type": "Polygon", "coordinates": [[[-71.07, 42.35], [-71.05, 42.35],
                                                  [-71.05, 42.37], [-71.07, 42.37],
                                                  [-71.07, 42.35]]]}
    shape = outlines.outline(square, 200)
    assert shapely.geometry.shape(shape).equals(shapely.geometry.shape(square))


def test_a_multipolygon_with_a_hole_keeps_every_part():
    outer = jagged(2_000)["coordinates"][0]
    hole = [[-71.065, 42.35], [-71.055, 42.35], [-71.055, 42.358], [-71.065, 42.358],
            [-71.065, 42.35]]
    island = jagged(2_000, west=-71.0)["coordinates"][0]
    shape = shapely.geometry.shape(outlines.outline(
        {"type": "MultiPolygon", "coordinates": [[outer, hole], [island]]}, 100))
    assert shape.geom_type == "MultiPolygon" and len(shape.geoms) == 2
    assert len(shape.geoms[0].interiors) == 1 and shape.is_valid


def test_the_page_budget_is_shared_between_zones_with_a_floor():
    assert outlines.vertex_cap(1) == outlines.ZONE_VERTICES
    assert outlines.vertex_cap(500) == 100
    assert outlines.vertex_cap(10_000) == outlines.MIN_VERTICES

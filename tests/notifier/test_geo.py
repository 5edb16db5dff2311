"""Areas: point-in-area with boundaries and holes, circles at the poles and the antimeridian,
overlaps with zones, CAP shapes both ways."""
from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from notifier.cap_area import from_cap_circle, from_cap_polygon, to_cap_circles, to_cap_polygons
from notifier.errors import InvalidInput
from notifier.geo import (EARTH_RADIUS_M, Circle, area_km2, circle_boxes, circle_overlaps, parse_area)

M_PER_DEG = EARTH_RADIUS_M * math.pi / 180  # along a meridian


def polygon(*rings) -> dict:
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring] for ring in rings]}


SQUARE = [(0, 0), (10, 0), (10, 10), (0, 10), (0, 0)]
# A "U": the notch 3..7 × 3..10 is outside.
U_SHAPE = [(0, 0), (10, 0), (10, 10), (7, 10), (7, 3), (3, 3), (3, 10), (0, 10), (0, 0)]


def covered(area: dict, points: list[tuple[float, float]]) -> list[bool]:
    """points as (lon, lat) like GeoJSON."""
    lons = np.array([p[0] for p in points], dtype=float)
    lats = np.array([p[1] for p in points], dtype=float)
    return parse_area(area).covers(lats, lons).tolist()


def errors_of(area: dict, known_zones=None) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        parse_area(area, known_zones)
    assert list(caught.value.errors) == ["area"]
    return caught.value.errors["area"]


def test_a_concave_polygon_leaves_its_notch_out():
    points = [(1, 5), (8, 8), (5, 1), (5, 5), (5, 9), (11, 5), (-0.001, 5)]
    assert covered({"geojson": polygon(U_SHAPE)}, points) == [True, True, True, False, False,
                                                               False, False]


def test_points_on_an_edge_or_a_vertex_are_covered():
    points = [(5, 3), (7, 6), (10, 5), (0, 0), (7, 10), (3, 3), (5, 3.0000001), (5, 2.9999999)]
    assert covered({"geojson": polygon(U_SHAPE)}, points) == [True, True, True, True, True, True,
                                                               False, True]


def test_a_hole_is_excluded_but_its_border_is_covered():
    hole = [(4, 4), (4, 6), (6, 6), (6, 4), (4, 4)]
    points = [(5, 5), (4, 5), (6, 6), (2, 2), (4.5, 5.5)]
    assert covered({"geojson": polygon(SQUARE, hole)}, points) == [False, True, True, True, False]


def test_a_multipolygon_covers_each_part_and_not_the_gap_between():
    area = {"geojson": {"type": "MultiPolygon", "coordinates": [
        [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
        [[[2, 0], [3, 0], [3, 1], [2, 1], [2, 0]]]]}}
    assert covered(area, [(0.5, 0.5), (2.5, 0.5), (1.5, 0.5), (3, 1)]) == [True, True, False, True]


def test_a_feature_collection_covers_the_union_of_its_features():
    area = {"geojson": {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": polygon([(0, 0), (2, 0), (2, 2), (0, 2), (0, 0)])},
        {"type": "Feature", "properties": {}, "geometry": polygon([(1, 1), (3, 1), (3, 3), (1, 3), (1, 1)])},
    ]}}
    assert covered(area, [(0.5, 0.5), (1.5, 1.5), (2.5, 2.5), (2.5, 0.5)]) == [True, True, True, False]


def test_a_circle_covers_points_by_great_circle_distance():
    lat0, lon0 = 42.0, -71.0
    area = {"circles": [{"lat": lat0, "lon": lon0, "radius_m": 1000}]}
    north_in, north_out = lat0 + 999 / M_PER_DEG, lat0 + 1001 / M_PER_DEG

    def east_at(d):  # the longitude at great-circle distance d due "east" on the same latitude
        phi = math.radians(lat0)
        return lon0 + math.degrees(math.acos(
            (math.cos(d / EARTH_RADIUS_M) - math.sin(phi) ** 2) / math.cos(phi) ** 2))

    points = [(lon0, north_in), (lon0, north_out), (east_at(999), lat0), (east_at(1001), lat0),
              (lon0, lat0)]
    assert covered(area, points) == [True, False, True, False, True]


def test_a_circle_across_the_antimeridian_covers_both_sides():
    area = {"circles": [{"lat": 0, "lon": 179.995, "radius_m": 5000}]}
    assert covered(area, [(-179.99, 0), (179.96, 0), (-179.9, 0)]) == [True, True, False]
    boxes = parse_area(area).boxes
    assert len(boxes) == 2 and boxes[0][2] == 180 and boxes[1][0] == -180


def test_circle_boxes_widen_with_latitude_and_take_every_longitude_around_a_pole():
    (west, south, east, north), = circle_boxes(Circle(60.0, 10.0, 10_000))
    assert north - 60 == pytest.approx(10_000 / M_PER_DEG)
    # at 60° a degree of longitude is half as long, so the box is about twice as wide
    assert east - 10 == pytest.approx(2 * 10_000 / M_PER_DEG, rel=1e-3)
    assert circle_boxes(Circle(89.5, 10.0, 100_000)) == [(-180.0, 89.5 - 100_000 / M_PER_DEG, 180.0, 90.0)]


def test_bbox_spans_shapes_and_circles():
    area = parse_area({"geojson": polygon(SQUARE), "circles": [{"lat": 20, "lon": 5, "radius_m": 1000}]})
    west, south, east, north = area.bbox
    assert (west, south, east) == (0, 0, 10)
    assert north == pytest.approx(20 + 1000 / M_PER_DEG)


def test_zones_and_everyone_alone_make_an_area():
    area = parse_area({"zones": ["beat-3", "beat-3"]}, known_zones={"beat-3"})
    assert area.zones == ("beat-3",) and area.geometry is None and area.bbox is None
    assert parse_area({"everyone": True}).everyone


def test_area_in_square_km_is_roughly_geodesic():
    one_degree = {"geojson": polygon([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)])}
    assert area_km2(one_degree) == pytest.approx(12_364, rel=2e-3)
    assert area_km2({"circles": [{"lat": 42, "lon": -71, "radius_m": 1000}]}) == pytest.approx(math.pi, rel=1e-3)


def test_cap_polygons_are_lat_lon_pairs_and_closed():
    area = parse_area({"geojson": polygon([(-71.06, 42.36), (-71.05, 42.36), (-71.05, 42.37), (-71.06, 42.36)]),
                       "circles": [{"lat": 42.36, "lon": -71.06, "radius_m": 800}]})
    assert to_cap_polygons(area) == ["42.36,-71.06 42.36,-71.05 42.37,-71.05 42.36,-71.06"]
    assert to_cap_circles(area) == ["42.36,-71.06 0.8"]


# ---- areas refused: circles, zones, emptiness (GeoJSON itself: test_geojson.py) ----

@pytest.mark.parametrize("radius, ok", [(0, False), (-5, False), (0.5, True), (200_000, True), (200_001, False)])
def test_a_circle_radius_must_be_positive_and_at_most_200_km(radius, ok):
    area = {"circles": [{"lat": 0, "lon": 0, "radius_m": radius}]}
    if ok:
        assert parse_area(area).circles[0].radius_m == radius
    else:
        assert errors_of(area) == [f"Circle 1's radius must be more than 0 and at most 200,000 m (200 km), got {radius:g}"]


def test_a_circle_centre_out_of_range_is_refused():
    assert errors_of({"circles": [{"lat": 100.5, "lon": 13.7, "radius_m": 5}]}) == [
        "Circle 1's centre: latitude 100.5 is out of range (-90 to 90); looks like lat/lon are swapped"]
    assert errors_of({"circles": [{"lat": 10, "lon": -190, "radius_m": 5}]}) == [
        "Circle 1's centre: longitude -190 is out of range (-180 to 180)"]
    assert errors_of({"circles": [{"lat": 42, "radius_m": 5}]}) == ["Circle 1 needs numbers lat, lon and radius_m (its centre and radius in metres)"]


def test_an_unknown_zone_code_is_an_error():
    assert errors_of({"zones": ["beat-3", "beat-9"]}, known_zones={"beat-3"}) == ["There is no zone 'beat-9': choose zones from the list"]


def test_an_empty_area_is_refused():
    expected = ["the area is empty: draw a shape or a circle, name a zone, or choose everyone"]
    assert errors_of({"description": "Downtown"}) == expected
    assert errors_of({"geojson": None, "circles": [], "zones": [], "everyone": False}) == expected


def test_every_problem_is_reported_at_once():
    messages = errors_of({"geojson": polygon([(0, 0), (1, 0), (0, 0)]),
                          "circles": [{"lat": 0, "lon": 0, "radius_m": 0}], "zones": ["x"]},
                         known_zones=set())
    assert len(messages) == 3


# ---- circles at the edges of the map, overlaps with zones ----

def test_a_circle_at_the_pole_reaches_across_it_by_great_circle_distance():
    # Centre 2 km from the North Pole on the Greenwich meridian; the far side is at lon 180.
    lat0 = 90 - 2000 / M_PER_DEG
    area = {"circles": [{"lat": lat0, "lon": 0, "radius_m": 5000}]}
    beyond = [(180, 90 - 2999 / M_PER_DEG), (180, 90 - 3001 / M_PER_DEG), (90, 90 - 4500 / M_PER_DEG),
              (0, lat0 - 4999 / M_PER_DEG), (0, lat0 - 5001 / M_PER_DEG)]
    # distances: 4999, 5001, sqrt(2000² + 4500²) ≈ 4924, 4999, 5001 metres
    assert covered(area, beyond) == [True, False, True, True, False]
    assert parse_area(area).boxes == ((-180.0, lat0 - 5000 / M_PER_DEG, 180.0, 90.0),)


def test_a_circle_across_the_antimeridian_measures_distance_across_it():
    area = {"circles": [{"lat": 0, "lon": 180, "radius_m": 1000}]}
    east = lambda d: -180 + d / M_PER_DEG  # noqa: E731 - at the equator a degree of lon is M_PER_DEG
    assert covered(area, [(east(999), 0), (east(1001), 0), (180 - 999 / M_PER_DEG, 0),
                          (180 - 1001 / M_PER_DEG, 0)]) == [True, False, True, False]


def square_at(west, south, east, north):
    return shapely.box(west, south, east, north)


def test_a_circle_overlaps_a_zone_it_reaches_into_but_not_one_it_only_touches():
    c = Circle(0.0, 0.0, 1000)
    edge = 1000 / M_PER_DEG
    assert circle_overlaps(c, square_at(edge * 0.999, -1, edge * 2, 1))
    assert not circle_overlaps(c, square_at(edge * 1.0001, -1, edge * 2, 1))
    assert circle_overlaps(c, square_at(-0.001, -0.001, 0.001, 0.001))  # a zone inside the circle
    assert circle_overlaps(c, square_at(-1, -1, 1, 1))  # a zone around the circle


def test_circle_overlaps_are_exact_across_the_antimeridian_and_near_the_pole():
    c = Circle(0.0, 179.999, 1000)  # 111 m west of the antimeridian
    near = (1000 - 111.2) / M_PER_DEG
    assert circle_overlaps(c, square_at(-180 + near * 0.99, -1, -179, 1))
    assert not circle_overlaps(c, square_at(-180 + near * 1.01, -1, -179, 1))
    polar = Circle(89.99, 0.0, 3000)  # 1,112 m from the pole: the zone beyond it is 1,888 m further
    beyond = 90 - (3000 - 1111.95) / M_PER_DEG
    assert circle_overlaps(polar, square_at(170, beyond - 0.001, 179, beyond + 0.0001))
    assert not circle_overlaps(polar, square_at(170, beyond - 0.001, 179, beyond - 0.0002))


def test_a_drawn_shape_overlaps_a_zone_only_through_shared_interior():
    area = parse_area({"geojson": polygon(SQUARE)})
    assert area.overlaps(square_at(9, 9, 11, 11))
    assert not area.overlaps(square_at(10, 0, 12, 10))  # shares an edge
    assert not area.overlaps(square_at(10, 10, 12, 12))  # shares a corner


def test_points_on_reflex_and_convex_vertices_of_a_star_are_covered():
    star = [(0, 3), (1, 1), (3, 0), (1, -1), (0, -3), (-1, -1), (-3, 0), (-1, 1), (0, 3)]
    points = [(1, 1), (0, 3), (2, 2), (0.5, 2), (0, 0), (2, 0.5), (2, 0.4), (-2, 0.6)]
    # (2, 0.5) lies on the edge (1,1)–(3,0); (2, 0.4) just inside; (-2, 0.6) just outside
    assert covered({"geojson": polygon(star)}, points) == [True, True, False, True, True, True,
                                                           True, False]


# ---- CAP <polygon>/<circle> back into areas ----

def test_a_cap_polygon_becomes_the_geojson_polygon_it_names():
    text = "42.36,-71.06 42.36,-71.05 42.37,-71.05 42.36,-71.06"
    shape = from_cap_polygon(text)
    assert shape == {"type": "Polygon", "coordinates": [[[-71.06, 42.36], [-71.05, 42.36],
                                                         [-71.05, 42.37], [-71.06, 42.36]]]}
    assert to_cap_polygons(parse_area({"geojson": shape})) == [text]


def test_a_cap_circle_becomes_a_circle_in_metres():
    circle = from_cap_circle("42.36,-71.06 0.8")
    assert circle == {"lat": 42.36, "lon": -71.06, "radius_m": 800}
    assert to_cap_circles(parse_area({"circles": [circle]})) == ["42.36,-71.06 0.8"]


@pytest.mark.parametrize("text, field, words", [
    ("42.36,-71.06 42.36,-71.05 42.37,-71.05 42.37,-71.06", "polygon", "not closed"),
    ("42.36,-71.06 42.36;-71.05 42.37,-71.05 42.36,-71.06", "polygon", "pair 1"),
    ("", "polygon", "empty"),
    ("0,0 1,1 1,0 0,1 0,0", "polygon", "crosses itself near 0.5, 0.5"),  # plain words since issue 11
    ("42.36,-71.06", "circle", "lat,lon radius_km"),
    ("42.36,-71.06 0", "circle", "more than 0"),
    ("42.36,-71.06 250", "circle", "200 km"),
    ("142.36,-71.06 1", "circle", "swapped"),
    ("42.36,-71.06 km", "circle", "not a number"),
])
def test_malformed_cap_shapes_are_refused_with_the_reason(text, field, words):
    parse = from_cap_polygon if field == "polygon" else from_cap_circle
    with pytest.raises(InvalidInput) as caught:
        parse(text)
    assert list(caught.value.errors) == [field]
    assert words in " ".join(caught.value.errors[field])

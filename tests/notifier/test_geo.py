"""Areas: strict GeoJSON validation, point-in-area with boundaries and holes, circles, CAP shapes."""
from __future__ import annotations

import math

import numpy as np
import pytest

from notifier.errors import InvalidInput
from notifier.geo import (EARTH_RADIUS_M, area_km2, circle_boxes, Circle, parse_area,
                          parse_geometry, to_cap_circles, to_cap_polygons)

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


# ---- every validation error names the problem and where it is ----

def test_an_unclosed_ring_is_refused_not_closed():
    ring = [(0, 0), (1, 0), (1, 1), (0, 1)]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": polygon(SQUARE)}, {"type": "Feature", "geometry": polygon(ring)}]}
    assert errors_of({"geojson": fc}) == [
        "geojson.features[1] ring 0 is not closed: its last position must repeat its first"]


def test_a_ring_needs_four_positions():
    assert errors_of({"geojson": polygon([(0, 0), (1, 0), (0, 0)])}) == [
        "geojson ring 0 has 3 positions; a ring needs at least 4 (the first repeated at the end)"]


def test_a_self_intersecting_polygon_says_where():
    bowtie = [(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)]
    assert errors_of({"geojson": polygon(bowtie)}) == [
        "geojson is not a valid polygon: self-intersection at longitude 0.5, latitude 0.5"]


def test_a_hole_outside_its_shell_is_invalid():
    messages = errors_of({"geojson": polygon(SQUARE, [(20, 20), (21, 20), (21, 21), (20, 20)])})
    assert len(messages) == 1 and messages[0].startswith("geojson is not a valid polygon: hole lies outside shell")


def test_a_longitude_out_of_range_is_named():
    assert errors_of({"geojson": polygon([(0, 0), (181, 0), (1, 1), (0, 0)])}) == [
        "geojson ring 0 position 1: longitude 181 is out of range (-180 to 180)"]


def test_swapped_coordinates_are_pointed_out():
    # Boston written as [lat, lon]: the "latitude" −71 is fine, but a swap is clear from 100.
    swapped = [(42.3, -71.1), (42.4, -71.1), (42.4, -100.0), (42.3, -71.1)]
    messages = errors_of({"geojson": polygon(swapped)})
    assert messages == ["geojson ring 0 position 2: latitude -100 is out of range (-90 to 90); "
                        "looks like lat/lon are swapped (GeoJSON positions are [longitude, latitude])"]


def test_a_latitude_out_of_range_without_a_plausible_swap_says_only_that():
    messages = errors_of({"geojson": polygon([(170, 0), (170, 95), (171, 1), (170, 0)])})
    assert messages == ["geojson ring 0 position 1: latitude 95 is out of range (-90 to 90)"]


def test_only_polygons_are_accepted():
    assert errors_of({"geojson": {"type": "Point", "coordinates": [0, 0]}}) == [
        "geojson is a Point: only Polygon and MultiPolygon geometries are accepted"]
    assert errors_of({"geojson": {"type": "Feature", "geometry": {"type": "LineString", "coordinates": []}}}) == [
        "geojson is a LineString: only Polygon and MultiPolygon geometries are accepted"]


def test_malformed_positions_are_refused():
    assert errors_of({"geojson": {"type": "Polygon", "coordinates": [[[0, 0], [1, "x"], [1, 1], [0, 0]]]}}) == [
        "geojson ring 0 position 1 must be [longitude, latitude] numbers"]


def test_more_than_ten_thousand_vertices_are_refused():
    n = 10_001
    ring = [(math.cos(2 * math.pi * i / n), math.sin(2 * math.pi * i / n)) for i in range(n - 1)]
    messages = errors_of({"geojson": polygon(ring + ring[:1])})
    assert messages == ["geojson has 10001 vertices; at most 10000 are allowed"]


@pytest.mark.parametrize("radius, ok", [(0, False), (-5, False), (0.5, True), (200_000, True), (200_001, False)])
def test_a_circle_radius_must_be_positive_and_at_most_200_km(radius, ok):
    area = {"circles": [{"lat": 0, "lon": 0, "radius_m": radius}]}
    if ok:
        assert parse_area(area).circles[0].radius_m == radius
    else:
        assert errors_of(area) == [f"circles[0] radius_m must be more than 0 and at most 200000 (200 km), got {radius:g}"]


def test_a_circle_centre_out_of_range_is_refused():
    assert errors_of({"circles": [{"lat": 100.5, "lon": 13.7, "radius_m": 5}]}) == [
        "circles[0] centre: latitude 100.5 is out of range (-90 to 90); looks like lat/lon are swapped"]
    assert errors_of({"circles": [{"lat": 10, "lon": -190, "radius_m": 5}]}) == [
        "circles[0] centre: longitude -190 is out of range (-180 to 180)"]
    assert errors_of({"circles": [{"lat": 42, "radius_m": 5}]}) == ["circles[0] needs numbers lat, lon and radius_m"]


def test_an_unknown_zone_code_is_an_error():
    assert errors_of({"zones": ["beat-3", "beat-9"]}, known_zones={"beat-3"}) == ["unknown zone code 'beat-9'"]


def test_an_empty_area_is_refused():
    expected = ["the area is empty: draw a shape or a circle, name a zone, or choose everyone"]
    assert errors_of({"description": "Downtown"}) == expected
    assert errors_of({"geojson": None, "circles": [], "zones": [], "everyone": False}) == expected


def test_every_problem_is_reported_at_once():
    messages = errors_of({"geojson": polygon([(0, 0), (1, 0), (0, 0)]),
                          "circles": [{"lat": 0, "lon": 0, "radius_m": 0}], "zones": ["x"]},
                         known_zones=set())
    assert len(messages) == 3


def test_a_zone_geometry_is_validated_under_its_own_field():
    with pytest.raises(InvalidInput) as caught:
        parse_geometry(polygon([(0, 0), (1, 0), (1, 1), (0, 1)]))
    assert caught.value.errors == {"geometry": ["geometry ring 0 is not closed: its last position must repeat its first"]}

"""GeoJSON validation: every problem named with where it is, nothing repaired."""
from __future__ import annotations

import math

import pytest
import shapely

from notifier import geojson
from notifier.errors import InvalidInput
from notifier.geo import parse_area, parse_geometry


def polygon(*rings) -> dict:
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring] for ring in rings]}


SQUARE = [(0, 0), (10, 0), (10, 10), (0, 10), (0, 0)]


def errors_of(area: dict) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        parse_area(area)
    assert list(caught.value.errors) == ["area"]
    return caught.value.errors["area"]


def test_an_unclosed_ring_is_refused_not_closed():
    ring = [(0, 0), (1, 0), (1, 1), (0, 1)]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": polygon(SQUARE)}, {"type": "Feature", "geometry": polygon(ring)}]}
    assert errors_of({"geojson": fc}) == [
        "Shape 2's outline is not closed: its last point must repeat its first"]


def test_a_ring_needs_four_positions():
    assert errors_of({"geojson": polygon([(0, 0), (1, 0), (0, 0)])}) == [
        "The shape's outline has 3 points; it needs at least 4 (the first repeated at the end)"]


def test_a_self_intersecting_polygon_says_where():
    bowtie = [(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)]
    assert errors_of({"geojson": polygon(bowtie)}) == [
        "The shape crosses itself near 0.5, 0.5; move or remove points there so its edges do not cross"]


def test_a_hole_outside_its_shell_is_invalid():
    messages = errors_of({"geojson": polygon(SQUARE, [(20, 20), (21, 20), (21, 21), (20, 20)])})
    assert len(messages) == 1 and messages[0].startswith("The shape is not a valid area: hole lies outside shell")


def test_a_longitude_out_of_range_is_named():
    assert errors_of({"geojson": polygon([(0, 0), (181, 0), (1, 1), (0, 0)])}) == [
        "The shape's outline, point 2: longitude 181 is out of range (-180 to 180)"]


def test_swapped_coordinates_are_pointed_out():
    # Boston written as [lat, lon]: the "latitude" −71 is fine, but a swap is clear from 100.
    swapped = [(42.3, -71.1), (42.4, -71.1), (42.4, -100.0), (42.3, -71.1)]
    messages = errors_of({"geojson": polygon(swapped)})
    assert messages == ["The shape's outline, point 3: latitude -100 is out of range (-90 to 90); "
                        "looks like lat/lon are swapped (GeoJSON positions are [longitude, latitude])"]


def test_a_latitude_out_of_range_without_a_plausible_swap_says_only_that():
    messages = errors_of({"geojson": polygon([(170, 0), (170, 95), (171, 1), (170, 0)])})
    assert messages == ["The shape's outline, point 2: latitude 95 is out of range (-90 to 90)"]


def test_only_polygons_are_accepted():
    assert errors_of({"geojson": {"type": "Point", "coordinates": [0, 0]}}) == [
        "The shape is a Point: only areas (Polygon and MultiPolygon) are accepted, not points or lines"]
    assert errors_of({"geojson": {"type": "Feature", "geometry": {"type": "LineString", "coordinates": []}}}) == [
        "The shape is a LineString: only areas (Polygon and MultiPolygon) are accepted, not points or lines"]


def test_malformed_positions_are_refused():
    assert errors_of({"geojson": {"type": "Polygon", "coordinates": [[[0, 0], [1, "x"], [1, 1], [0, 0]]]}}) == [
        "The shape's outline, point 2 must be [longitude, latitude] numbers"]


def test_more_than_ten_thousand_vertices_are_refused():
    n = 10_001
    ring = [(math.cos(2 * math.pi * i / n), math.sin(2 * math.pi * i / n)) for i in range(n - 1)]
    messages = errors_of({"geojson": polygon(ring + ring[:1])})
    assert messages == ["The area has 10,001 points; at most 10,000 are allowed: simplify the shape"]


def test_a_zone_geometry_is_validated_under_its_own_field():
    with pytest.raises(InvalidInput) as caught:
        parse_geometry(polygon([(0, 0), (1, 0), (1, 1), (0, 1)]))
    assert caught.value.errors == {"geometry": ["The shape's outline is not closed: its last point must repeat its first"]}


def test_exactly_ten_thousand_vertices_are_accepted():
    n = 10_000
    ring = [(math.cos(2 * math.pi * i / (n - 1)), math.sin(2 * math.pi * i / (n - 1))) for i in range(n - 1)]
    shape = parse_geometry(polygon(ring + ring[:1]))
    assert len(shape.exterior.coords) == n


def test_a_feature_without_geometry_and_an_empty_collection_are_named():
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": None}]}
    assert errors_of({"geojson": fc}) == ["Shape 1 has no geometry"]
    assert errors_of({"geojson": {"type": "FeatureCollection", "features": []}}) == [
        "The FeatureCollection holds no shapes: its features must be a non-empty list"]


def test_a_multipolygon_part_is_named_by_its_index():
    multi = {"type": "MultiPolygon", "coordinates": [[SQUARE], [[(20, 20), (21, 20), (20, 20)]]]}
    multi["coordinates"] = [[[list(p) for p in ring] for ring in rings] for rings in multi["coordinates"]]
    assert errors_of({"geojson": multi}) == [
        "The shape, part 2's outline has 3 points; it needs at least 4 (the first repeated at the end)"]


def test_a_valid_shape_comes_back_exactly_as_sent():
    u_shape = [(0, 0), (10, 0), (10, 10), (7, 10), (7, 3), (3, 3), (3, 10), (0, 10), (0, 0)]
    shape = parse_geometry(polygon(u_shape))
    assert list(shape.exterior.coords) == [tuple(map(float, p)) for p in u_shape]
    assert shapely.area(shape) == 10 * 10 - 4 * 7


def test_a_spike_that_doubles_back_is_refused_rather_than_trimmed():
    spike = [(0, 0), (2, 0), (2, 1), (3, 1), (2, 1), (2, 2), (0, 2), (0, 0)]
    messages = errors_of({"geojson": polygon(spike)})
    assert len(messages) == 1 and "crosses itself near" in messages[0]


def test_position_problem_names_a_plausible_swap_only_when_unambiguous():
    assert geojson.position_problem(-71.06, 42.36) is None
    assert "swapped" in geojson.position_problem(42.36, -171.06)
    assert "swapped" not in geojson.position_problem(170, 95)


def test_a_bow_tie_names_where_it_crosses_in_lat_lon_order():
    # Crosses at lon -71.0589, lat 42.3601: the message reads "lat, lon" as people do.
    bow_tie = [(-71.0689, 42.3501), (-71.0489, 42.3701), (-71.0489, 42.3501), (-71.0689, 42.3701),
               (-71.0689, 42.3501)]
    messages = errors_of({"geojson": polygon(bow_tie)})
    assert messages == ["The shape crosses itself near 42.3601, -71.0589; "
                        "move or remove points there so its edges do not cross"]

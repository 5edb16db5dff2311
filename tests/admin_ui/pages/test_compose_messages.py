"""The compose page shows validation errors in a dispatcher's words, next to the field."""
from __future__ import annotations

import html
import json

from tests.admin_ui.pages.test_alerts import form  # the same form the compose tests post


def test_a_self_crossing_area_is_explained_where_it_crosses(signed_in):
    client = signed_in("dispatcher")
    bow_tie = [[-71.0689, 42.3501], [-71.0489, 42.3701], [-71.0489, 42.3501],
               [-71.0689, 42.3701], [-71.0689, 42.3501]]
    area = json.dumps({"type": "Polygon", "coordinates": [bow_tie]})
    response = client.post("/alerts/new", data=form(client, area_geojson=area, everyone=None))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "crosses itself near 42.3601, -71.0589" in html
    assert "is not a valid polygon" not in html


def test_shape_and_circle_problems_name_the_place_in_words_counted_from_one(signed_in):
    client = signed_in("dispatcher")
    swapped = [[42.35, -71.06], [42.36, -71.06], [42.36, -100.0], [42.35, -71.06]]  # lat/lon
    area = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [swapped]}}]})
    circles = json.dumps([{"lat": 42.36, "lon": -71.06, "radius_m": 0}])
    response = client.post("/alerts/new", data=form(client, area_geojson=area,
                                                   area_circles=circles, everyone=None))
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert ("Shape 1's outline, point 3: latitude -100 is out of range (-90 to 90); "
            "looks like lat/lon are swapped") in page
    assert "Circle 1's radius must be more than 0 and at most 200,000 m (200 km), got 0" in page
    assert "features[" not in page and "ring 0" not in page and "circles[" not in page

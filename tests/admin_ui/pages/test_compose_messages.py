"""The compose page shows validation errors in a dispatcher's words, next to the field."""
from __future__ import annotations

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

"""notifier.public_alerts (which alerts are public, which zones an area concerns), the public
ids, and the reader's language (notifier.i18n.negotiate)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from notifier import geo, public_alerts, zone_overlap
from notifier.i18n import negotiate
from notifier.models import Alert, Zone
from notifier.public_ids import LENGTH, looks_like, new_public_id

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
BEAT = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
ZONE = Zone(code="beat-3", name="Beat 3", geometry=BEAT)


def polygon(west, south, east, north) -> dict:
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north],
                                                [west, north], [west, south]]]}


@pytest.mark.parametrize("area, expected", [
    ({"geojson": polygon(0.5, 0.5, 2, 2)}, True),            # overlaps the interior
    ({"geojson": polygon(1, 0, 2, 1)}, False),               # shares the eastern border only
    ({"geojson": polygon(1, 1, 2, 2)}, False),               # touches a corner only
    ({"geojson": polygon(0.2, 0.2, 0.8, 0.8)}, True),        # inside it
    ({"geojson": polygon(-1, -1, 2, 2)}, True),              # covers it
    ({"zones": ["beat-3"]}, True),                           # names it
    ({"zones": ["beat-4"]}, False),                          # names another zone
    ({"circles": [{"lat": 0.5, "lon": 0.5, "radius_m": 10}]}, True),
    ({"circles": [{"lat": 0.5, "lon": 1.001, "radius_m": 50}]}, False),  # ~111 m east of it
    ({"circles": [{"lat": 0.5, "lon": 1.001, "radius_m": 500}]}, True),
    ({"everyone": True}, True),
], ids=["overlaps", "edge", "corner", "inside", "covers", "named", "other-zone",
        "circle-in", "circle-near", "circle-over", "everyone"])
def test_an_area_concerns_a_zone_it_names_or_whose_interior_it_overlaps(area, expected):
    alert = Alert(area=area)
    assert public_alerts.in_zone([alert], ZONE) == ([alert] if expected else [])


def test_a_zone_without_an_outline_is_concerned_only_when_named():
    bare = Zone(code="beat-9", name="Beat 9", geometry=None)
    drawn, named = Alert(area={"geojson": polygon(0, 0, 1, 1)}), Alert(area={"zones": ["beat-9"]})
    assert public_alerts.in_zone([drawn, named], bare) == [named]


def test_an_odd_stored_area_keeps_its_zones():
    odd = Alert(area={"zones": ["beat-3"], "geojson": {"type": "Polygon", "coordinates": []}})
    assert zone_overlap.area_of(odd).zones == ("beat-3",)
    assert zone_overlap.concerns(geo.Area(), "beat-3", None) is False


@pytest.mark.parametrize("values, public", [
    (dict(status="Actual", state="sent", sent_at=NOW), True),
    (dict(status="Actual", state="sending", sent_at=NOW), True),
    (dict(status="Actual", state="cancelled", sent_at=NOW), True),
    (dict(status="Actual", state="cancelled", sent_at=None), False),
    (dict(status="Actual", state="draft", sent_at=None), False),
    (dict(status="Exercise", state="sent", sent_at=NOW), False),
    (dict(status="Test", state="sent", sent_at=NOW), False),
])
def test_only_sent_actual_alerts_are_public(values, public):
    assert public_alerts.is_public(Alert(**values)) is public


def test_public_ids_are_short_random_and_url_safe():
    ids = {new_public_id() for _ in range(2_000)}
    assert len(ids) == 2_000
    assert all(len(i) == LENGTH and looks_like(i) for i in ids)
    assert not looks_like("short") and not looks_like("x" * (LENGTH - 1) + "/")


@pytest.mark.parametrize("available, asked, accepted, expected", [
    (["en", "es"], "es", [], "es"),
    (["en", "es"], "ES", ["en"], "es"),
    (["en", "es"], "xx", ["es"], "es"),                 # an unknown ?lang= is passed over
    (["en", "es"], None, ["es-MX", "en"], "es"),        # the tag's language
    (["en", "es-MX"], None, ["es"], "es-MX"),           # a text written for a region
    (["en", "es"], None, ["fr", "es", "en"], "es"),     # in the browser's order
    (["en", "es"], None, ["de"], "en"),                 # then DEFAULT_LANGUAGE
    (["fr", "es"], None, ["de"], "fr"),                 # then the alert's first text
    (["en", "nb-NO"], None, ["no"], "nb-NO"),           # CLDR aliases (babel)
], ids=["asked", "asked-case", "asked-unknown", "region-to-base", "base-to-region", "order",
        "default", "first", "alias"])
def test_the_reader_s_language(available, asked, accepted, expected):
    assert negotiate(available, asked, accepted, "en") == expected

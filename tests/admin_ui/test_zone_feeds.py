"""/feeds/zones/<code>.atom: a feed per zone (per police beat) of the sent Actual alerts whose
area names the zone or overlaps its interior; cacheable like the main feed."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

from notifier import zones
from notifier.db import session_scope
from notifier.models import Zone
from tests.admin_ui.conftest import make_alert
from tests.admin_ui.test_feeds import ATOM, SCHEMA

NOW = datetime.now(timezone.utc).replace(microsecond=0)
FEED = "/feeds/zones/beat-3.atom"


def square(west: float, south: float, east: float, north: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north],
                                                [west, north], [west, south]]]}


BEAT_3 = square(-71.10, 42.30, -71.00, 42.40)
BEAT_4 = square(-71.00, 42.30, -70.90, 42.40)  # shares Beat 3's eastern border


@pytest.fixture
def town(settings) -> None:
    """Beat 3 and its neighbour Beat 4, and alerts in every relation to Beat 3."""
    with session_scope(settings.database_url) as session:
        for code, name, shape in (("beat-3", "Beat 3", BEAT_3), ("beat-4", "Beat 4", BEAT_4)):
            zones.put_zone(session, code, {"name": name, "geometry": shape}, NOW)
        sent = dict(state="sent", sent_at=NOW - timedelta(minutes=30))
        rows = {
            "overlaps": dict(area={"geojson": square(-71.05, 42.35, -70.95, 42.45)}),
            "touches its edge": dict(area={"geojson": square(-71.00, 42.32, -70.95, 42.38)}),
            "names it": dict(area={"zones": ["beat-3"]}),
            "names the neighbour": dict(area={"zones": ["beat-4"]}),
            "circle inside": dict(area={"circles": [{"lat": 42.35, "lon": -71.05,
                                                     "radius_m": 300}]}),
            "circle outside": dict(area={"circles": [{"lat": 42.35, "lon": -70.95,
                                                      "radius_m": 300}]}),
            "everyone": dict(area={"everyone": True}),
            "exercise": dict(status="Exercise", area={"zones": ["beat-3"]}),
            "draft": dict(state="draft", sent_at=None, area={"zones": ["beat-3"]}),
        }
        for i, (headline, values) in enumerate(rows.items()):
            when = {"sent_at": sent["sent_at"] + timedelta(seconds=i)} \
                if values.get("state") != "draft" else {}
            make_alert(session, **{**sent, "headline": headline, **values, **when})


def titles(response) -> list[str]:
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = etree.fromstring(response.data)
    return sorted(e.findtext("a:title", namespaces=ATOM) for e in feed.findall("a:entry", ATOM))


def test_the_zone_feed_lists_alerts_naming_or_overlapping_the_zone(client, town):
    assert titles(client.get(FEED)) == ["circle inside", "everyone", "names it", "overlaps"]
    # Touching a border is not overlapping: the edge alert is Beat 4's, not Beat 3's.
    assert titles(client.get("/feeds/zones/beat-4.atom")) == [
        "circle outside", "everyone", "names the neighbour", "overlaps", "touches its edge"]


def test_each_entry_carries_a_valid_cap_document_and_the_feed_names_itself(client, town):
    feed = etree.fromstring(client.get(FEED).data)
    assert feed.findtext("a:id", namespaces=ATOM) == \
        "https://tocsin.example.org/feeds/zones/beat-3.atom"
    assert "Beat 3" in feed.findtext("a:title", namespaces=ATOM)
    for entry in feed.findall("a:entry", ATOM):
        assert SCHEMA.validate(entry.find("a:content/cap:alert", ATOM)), SCHEMA.error_log


def test_an_unknown_zone_is_404(client, town):
    assert client.get("/feeds/zones/beat-99.atom").status_code == 404


def test_the_zone_feed_answers_304_and_changes_when_the_zone_is_redrawn(client, settings, town):
    first = client.get(FEED)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get(FEED, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    since = client.get(FEED, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    with session_scope(settings.database_url) as session:
        # Beat 3 moves east over Beat 4: the edge alert now overlaps it, the circle does not.
        zones.put_zone(session, "beat-3", {"name": "Beat 3",
                                           "geometry": square(-71.02, 42.30, -70.90, 42.40)},
                       NOW + timedelta(seconds=1))
        assert session.get(Zone, "beat-3").geometry["coordinates"][0][0] == [-71.02, 42.30]
    moved = client.get(FEED, headers={"If-None-Match": first.headers["ETag"]})
    assert titles(moved) == ["circle outside", "everyone", "names it", "overlaps",
                             "touches its edge"]

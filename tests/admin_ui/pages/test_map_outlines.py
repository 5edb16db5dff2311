"""The alert pages' maps embed small zone outlines, never a zone's full stored geometry."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import shapely
import shapely.geometry

from notifier import zones
from notifier.db import session_scope
from tests.admin_ui.conftest import make_alert
from tests.admin_ui.pages.test_alerts import compose
from tests.notifier.test_outlines import jagged

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=timezone.utc)
MAP_DATA = re.compile(r'<script type="application/json" id="map-data">(.*?)</script>', re.S)


def put_zone(settings, code: str, geometry: dict, now: datetime = NOW) -> None:
    with session_scope(settings.database_url) as session:
        zones.put_zone(session, code, {"name": code.title(), "geometry": geometry}, now)


def map_data(html: str) -> str:
    match = MAP_DATA.search(html)
    assert match, "no map data on the page"
    return match.group(1)


def outline_of(data: str, code: str):
    found = [z for z in json.loads(data)["zones"] if z["code"] == code]
    assert len(found) == 1, f"zone {code} is not on the map"
    return shapely.geometry.shape(found[0]["geometry"])


def test_the_compose_page_embeds_a_10000_vertex_zone_as_a_small_outline(signed_in, settings):
    assert len(json.dumps(jagged())) > 300_000
    put_zone(settings, "big", jagged())
    html = signed_in("dispatcher").get("/alerts/new").get_data(as_text=True)
    data = map_data(html)
    assert len(data.encode()) < 20_000
    assert 'data-testid="zone-big"' in html  # still listed to pick by its code
    outline = outline_of(data, "big")
    assert outline.is_valid and shapely.get_num_coordinates(outline) < 1_000
    assert outline.intersects(shapely.geometry.Point(-71.06, 42.355))


def test_the_preview_and_alert_pages_embed_the_outline_too(signed_in, settings):
    put_zone(settings, "big", jagged())
    client = signed_in("dispatcher")
    draft_id = compose(client, zones="big", status="Exercise")
    with session_scope(settings.database_url) as session:
        sent_id = make_alert(session, area={"zones": ["big"]}).id
    for path in (f"/alerts/{draft_id}/preview", f"/alerts/{sent_id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        data = map_data(response.get_data(as_text=True))
        assert len(data.encode()) < 20_000, path
        assert json.loads(data)["area"]["zones"] == ["big"]
        outline_of(data, "big")


def test_an_edited_zone_is_drawn_with_its_new_shape(signed_in, settings):
    client = signed_in("dispatcher")
    west = jagged(200)
    east = jagged(200, west=-71.0)
    put_zone(settings, "moving", west)
    first = outline_of(map_data(client.get("/alerts/new").get_data(as_text=True)), "moving")
    put_zone(settings, "moving", east, NOW + timedelta(minutes=1))
    second = outline_of(map_data(client.get("/alerts/new").get_data(as_text=True)), "moving")
    assert first.intersects(shapely.geometry.shape(west))
    assert second.intersects(shapely.geometry.shape(east)) and not second.intersects(first)

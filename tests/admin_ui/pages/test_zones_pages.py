"""/zones: the map's GeoJSON, the table with followers, GeoJSON import, keywords, delete."""
from __future__ import annotations

import io
import json
import re

from sqlalchemy import select

from notifier import zones
from notifier.db import session_scope
from notifier.models import AuditEvent, SubscriberZone, Zone
from tests.admin_ui.conftest import NOW, make_subscriber

SQUARE = {"type": "Polygon", "coordinates": [[[-71.07, 42.35], [-71.05, 42.35], [-71.05, 42.37],
                                               [-71.07, 42.37], [-71.07, 42.35]]]}


def add_zone(settings, code="beat-3", followers=1):
    with session_scope(settings.database_url) as session:
        zones.put_zone(session, code, {"name": "Beat 3", "geometry": SQUARE, "keywords": ["BEAT3"]}, NOW)
        for i in range(followers):
            sub = make_subscriber(session, phone=f"+1617555{i:04d}")
            session.add(SubscriberZone(subscriber_id=sub.id, zone_code=code))


def actions(settings) -> list[str]:
    with session_scope(settings.database_url, readonly=True) as session:
        return session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def test_the_page_lists_zones_with_keywords_and_followers_for_auditors_too(signed_in, settings):
    add_zone(settings, followers=2)
    html = signed_in("auditor").get("/zones").get_data(as_text=True)
    row = html.split('data-code="beat-3"')[1].split("</tr>")[0]
    assert "Beat 3" in row and "BEAT3" in row and '<td class="num">2</td>' in row
    assert 'data-testid="zone-import-form"' not in html and "zone-edit-beat-3" not in html


def test_the_map_endpoint_gives_every_zone_as_geojson(signed_in, settings):
    add_zone(settings)
    body = signed_in("dispatcher").get("/zones/map.json").get_json()
    assert body["type"] == "FeatureCollection"
    [feature] = body["features"]
    assert feature["geometry"] == SQUARE and feature["properties"]["code"] == "beat-3"


def test_the_map_endpoint_answers_401_json_when_signed_out(client):
    response = client.get("/zones/map.json")
    assert response.status_code == 401 and response.is_json


def upload(client, payload):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post("/zones/import", data={"csrf_token": client.csrf,
                                              "file": (io.BytesIO(raw), "zones.geojson")},
                       content_type="multipart/form-data")


def test_a_geojson_import_reports_created_updated_and_rejected_features(signed_in, settings):
    add_zone(settings)
    open_ring = {"type": "Polygon", "coordinates": [[[-71, 42], [-70.9, 42], [-70.9, 42.1]]]}
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": SQUARE, "properties": {"code": "beat-3", "name": "Beat Three"}},
        {"type": "Feature", "geometry": SQUARE, "properties": {"code": "north", "name": "North"}},
        {"type": "Feature", "geometry": open_ring, "properties": {"code": "bad", "name": "Bad"}}]}
    response = upload(signed_in("dispatcher"), collection)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'zones-created">1<', html) and re.search(r'zones-updated">1<', html)
    assert re.search(r'zones-rejected">1<', html)
    assert re.search(r'zone-error-row"><td class="num">3</td><td>bad</td>', html)
    assert actions(settings)[-1] == "zone.import"


def test_a_file_that_is_not_a_feature_collection_is_explained(signed_in):
    client = signed_in("dispatcher")
    response = upload(client, b"{nope")
    assert response.status_code == 422 and "not valid JSON" in response.get_data(as_text=True)
    response = upload(client, {"type": "Polygon"})
    assert response.status_code == 422 and "FeatureCollection" in response.get_data(as_text=True)


def test_editing_changes_name_and_keywords_and_keeps_the_geometry(signed_in, settings):
    add_zone(settings)
    client = signed_in("dispatcher")
    response = client.post("/zones/beat-3/edit", data={"csrf_token": client.csrf,
                                                       "name": "Beat Three", "keywords": "beat3, b3"})
    assert response.status_code == 302
    with session_scope(settings.database_url, readonly=True) as session:
        zone = session.get(Zone, "beat-3")
        assert (zone.name, zone.keywords, zone.geometry) == ("Beat Three", ["BEAT3", "B3"], SQUARE)
    assert actions(settings)[-1] == "zone.replace"


def test_a_command_word_as_keyword_comes_back_with_the_field_error(signed_in, settings):
    add_zone(settings)
    client = signed_in("dispatcher")
    response = client.post("/zones/beat-3/edit", data={"csrf_token": client.csrf,
                                                       "name": "Beat 3", "keywords": "STOP"})
    assert response.status_code == 422
    assert "command word" in response.get_data(as_text=True).split('data-testid="errors-keywords"')[1]


def test_delete_asks_for_the_code_then_deletes_and_audits(signed_in, settings):
    add_zone(settings, followers=1)
    client = signed_in("dispatcher")
    assert "1 resident follows" in client.get("/zones/beat-3/delete").get_data(as_text=True)
    assert client.post("/zones/beat-3/delete", data={"csrf_token": client.csrf,
                                                     "confirm": "nope"}).status_code == 422
    response = client.post("/zones/beat-3/delete", data={"csrf_token": client.csrf, "confirm": "beat-3"})
    assert response.status_code == 302
    with session_scope(settings.database_url, readonly=True) as session:
        assert session.get(Zone, "beat-3") is None
    assert actions(settings)[-1] == "zone.delete"
    assert client.get("/zones/beat-3/edit").status_code == 404


def test_auditors_may_not_change_zones_and_posts_need_csrf(signed_in, settings):
    add_zone(settings)
    auditor = signed_in("auditor")
    assert auditor.get("/zones/beat-3/edit").status_code == 403
    assert auditor.post("/zones/beat-3/delete", data={"csrf_token": auditor.csrf,
                                                      "confirm": "beat-3"}).status_code == 403
    dispatcher = signed_in("dispatcher")
    assert dispatcher.post("/zones/beat-3/delete", data={"confirm": "beat-3"}).status_code == 400

"""/api/v1/zones: PUT 201/200, 422 naming the problem, import counts, paging, delete, roles, audit."""
from __future__ import annotations

from sqlalchemy import select

from notifier.db import session_scope
from notifier.models import AuditEvent

URL = "/api/v1/zones"


def box(west, south, east, north) -> dict:
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north],
                                                [west, north], [west, south]]]}


BEAT = {"name": "Beat 3", "geometry": box(-71.07, 42.35, -71.05, 42.37), "keywords": ["beat3"]}


def actions(settings) -> list[tuple[str, str]]:
    with session_scope(settings.database_url, readonly=True) as session:
        return [(e.action, e.object) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_put_creates_with_201_then_replaces_with_200(client, auth, settings):
    headers = auth("dispatcher")
    first = client.put(f"{URL}/beat-3", json=BEAT, headers=headers)
    assert first.status_code == 201
    body = first.get_json()
    assert (body["code"], body["keywords"], body["bbox"], body["followers"]) == (
        "beat-3", ["BEAT3"], [-71.07, 42.35, -71.05, 42.37], 0)
    second = client.put(f"{URL}/beat-3", json={**BEAT, "name": "Beat Three"}, headers=headers)
    assert (second.status_code, second.get_json()["name"]) == (200, "Beat Three")
    assert actions(settings) == [("zone.create", "zone:beat-3"), ("zone.replace", "zone:beat-3")]


def test_a_bad_shape_is_a_422_that_says_what_and_where(client, auth):
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    response = client.put(f"{URL}/x", json={"name": "X", "geometry": bowtie}, headers=auth("dispatcher"))
    assert response.status_code == 422
    assert response.get_json() == {"errors": {"geometry": [
        "The shape crosses itself near 0.5, 0.5; move or remove points there so its edges do not cross"]}}


def test_import_answers_counts_and_rejected_features(client, auth, settings):
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "a", "name": "A", "keywords": ["alpha"]}, "geometry": box(0, 0, 1, 1)},
        {"type": "Feature", "properties": {"code": "b", "name": "B"}, "geometry": box(0, 0, 1, 100)},
    ]}
    response = client.post(f"{URL}/import", json=collection, headers=auth("admin"))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["created"], body["updated"], [r["code"] for r in body["rejected"]]) == (1, 0, ["b"])
    assert "latitude 100 is out of range" in body["rejected"][0]["errors"]["geometry"][0]
    assert ("zone.import", None) in actions(settings)
    assert client.post(f"{URL}/import", json=[1], headers=auth("admin")).status_code == 422


def test_zones_are_listed_by_page_read_one_by_one_and_deleted(client, auth, settings):
    headers = auth("dispatcher")
    for code in ("c", "a", "b"):
        client.put(f"{URL}/{code}", json={"name": code, "geometry": box(0, 0, 1, 1)}, headers=headers)
    page = client.get(f"{URL}?page=2&per_page=2", headers=headers).get_json()
    assert ([z["code"] for z in page["items"]], page["total"], page["page"]) == (["c"], 3, 2)
    assert client.get(f"{URL}/a", headers=headers).get_json()["geometry"] == box(0, 0, 1, 1)
    assert client.delete(f"{URL}/a", headers=headers).status_code == 204
    assert client.get(f"{URL}/a", headers=headers).status_code == 404
    assert client.delete(f"{URL}/a", headers=headers).status_code == 404
    assert ("zone.delete", "zone:a") in actions(settings)


def test_auditors_read_zones_but_may_not_change_them(client, auth):
    client.put(f"{URL}/a", json={"name": "A", "geometry": box(0, 0, 1, 1)}, headers=auth("admin"))
    auditor = auth("auditor")
    assert client.get(URL, headers=auditor).status_code == 200
    assert client.get(f"{URL}/a", headers=auditor).status_code == 200
    assert client.put(f"{URL}/a", json={"name": "A", "geometry": box(0, 0, 1, 1)}, headers=auditor).status_code == 403
    assert client.delete(f"{URL}/a", headers=auditor).status_code == 403
    assert client.post(f"{URL}/import", json={"type": "FeatureCollection", "features": []},
                       headers=auditor).status_code == 403
    assert client.get(URL).status_code == 401

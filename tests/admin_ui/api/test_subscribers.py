"""/api/v1/subscribers: 201/409/422, reads, changes, erasure, search, CSV and JSON imports."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from notifier.db import session_scope
from notifier.models import AuditEvent, Delivery, Subscriber
from tests.admin_ui.conftest import make_alert, make_delivery

URL = "/api/v1/subscribers"
ANA = {"name": "Ana", "phone": "(617) 555-0100", "email": "Ana@Example.org", "language": "es",
       "channels": ["sms", "email"], "locations": [{"label": "home", "lat": 42.36, "lon": -71.06}],
       "groups": ["test"]}


@pytest.fixture
def headers(auth):
    return auth("dispatcher")


def create(client, headers, body=None):
    return client.post(URL, json=body or ANA, headers=headers)


def test_it_creates_a_subscriber_with_e164_phone(client, headers):
    response = create(client, headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["phone"] == "+16175550100"
    assert body["email"] == "ana@example.org"
    assert body["language"] == "es"
    assert body["opted_out"] == {"sms": False, "voice": False, "email": False}
    assert body["locations"] == [{"label": "home", "lat": 42.36, "lon": -71.06}]
    assert isinstance(body["id"], int) and body["created_at"]


@pytest.mark.parametrize("spelling", [
    "+1 617 555 0100", "tel:+1-617-555-0100", "６１７５５５０１００", "617.555.0100",
])
def test_it_answers_409_with_the_existing_id_for_the_same_phone_spelled_otherwise(
        client, headers, spelling):
    first = create(client, headers).get_json()
    response = create(client, headers, {"name": "Other", "phone": spelling})
    assert response.status_code == 409
    body = response.get_json()
    assert body["id"] == first["id"]
    assert body["error"]


def test_it_answers_409_for_a_known_email_in_another_case(client, headers):
    first = create(client, headers).get_json()
    response = create(client, headers, {"email": "ANA@example.ORG"})
    assert (response.status_code, response.get_json()["id"]) == (409, first["id"])


BAD_BODIES = [
    ({"name": "No address"}, None),
    ({"phone": "555-0100"}, "phone"),
    ({"phone": "+1 202 555 01"}, "phone"),
    ({"phone": "not a number"}, "phone"),
    ({"phone": 16175550100}, "phone"),
    ({"email": "not-an-email"}, "email"),
    ({"phone": "+16175550100", "language": "xx-nope"}, "language"),
    ({"phone": "+16175550100", "language": 7}, "language"),
    ({"phone": "+16175550100", "channels": ["fax"]}, "channels"),
    ({"phone": "+16175550100", "channels": "sms"}, "channels"),
    ({"phone": "+16175550100", "channels": []}, "channels"),
    ({"phone": "+16175550100", "channels": ["email"]}, "channels"),
    ({"phone": "+16175550100", "locations": [{"lat": 91, "lon": 0}]}, "locations"),
    ({"phone": "+16175550100", "locations": [{"lat": 0, "lon": -181}]}, "locations"),
    ({"phone": "+16175550100", "locations": [{"lat": "north", "lon": 0}]}, "locations"),
    ({"phone": "+16175550100", "locations": "home"}, "locations"),
    ({"phone": "+16175550100", "zones": "beat-3"}, "zones"),
    ({"phone": "+16175550100", "shoe_size": 42}, "shoe_size"),
    ({"phone": "+16175550100", "name": ["Ana"]}, "name"),
]


@pytest.mark.parametrize("body, field", BAD_BODIES)
def test_bad_bodies_get_422_with_field_messages_never_500(client, headers, body, field):
    response = create(client, headers, body)
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    if field:
        assert field in errors, errors
    assert all(isinstance(v, (list, dict)) and v for v in errors.values())


def test_it_reads_changes_and_erases_a_subscriber(client, headers, settings):
    sub = create(client, headers).get_json()
    url = f"{URL}/{sub['id']}"
    assert client.get(url, headers=headers).get_json()["name"] == "Ana"
    changed = client.patch(url, json={"name": "Ana María", "zones": ["beat-3"]}, headers=headers)
    assert changed.status_code == 200
    assert (changed.get_json()["name"], changed.get_json()["zones"]) == ("Ana María", ["beat-3"])
    assert changed.get_json()["phone"] == "+16175550100"
    with session_scope(settings.database_url) as session:
        alert = make_alert(session)
        make_delivery(session, alert, session.get(Subscriber, sub["id"]), status="delivered")
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    with session_scope(settings.database_url) as session:
        rows = session.execute(select(Delivery.subscriber_id, Delivery.address, Delivery.status)).all()
    assert [tuple(r) for r in rows] == [(None, None, "delivered")]


def test_patch_validates_like_create(client, headers):
    sub = create(client, headers).get_json()
    response = client.patch(f"{URL}/{sub['id']}", json={"phone": "12"}, headers=headers)
    assert response.status_code == 422
    assert "phone" in response.get_json()["errors"]


def test_patch_to_another_subscribers_phone_is_409(client, headers):
    first = create(client, headers).get_json()
    second = create(client, headers, {"phone": "+16175550101"}).get_json()
    response = client.patch(f"{URL}/{second['id']}", json={"phone": "617-555-0100"}, headers=headers)
    assert (response.status_code, response.get_json()["id"]) == (409, first["id"])


def test_unknown_ids_are_404_in_json(client, headers):
    for method in ("GET", "PATCH", "DELETE"):
        response = client.open(f"{URL}/4242", method=method, json={"name": "x"}, headers=headers)
        assert response.status_code == 404
        assert response.get_json()["error"]


def test_it_searches_pages_and_filters(client, headers):
    create(client, headers)
    create(client, headers, {"name": "Bo", "phone": "+16175550111", "language": "es-MX",
                           "zones": ["beat-3"]})
    create(client, headers, {"name": "Cy", "email": "cy@example.org", "language": "vi"})
    body = client.get(f"{URL}?per_page=2", headers=headers).get_json()
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (3, 1, 2, 2)
    page2 = client.get(f"{URL}?per_page=2&page=2", headers=headers).get_json()
    assert [s["name"] for s in page2["items"]] == ["Cy"]
    assert [s["name"] for s in client.get(f"{URL}?q=555011", headers=headers).get_json()["items"]] == ["Bo"]
    assert [s["name"] for s in client.get(f"{URL}?language=es", headers=headers).get_json()["items"]] == ["Ana", "Bo"]
    assert [s["name"] for s in client.get(f"{URL}?zone=beat-3", headers=headers).get_json()["items"]] == ["Bo"]


CSV = (
    "name,phone,email,language,channels,lat,lon,zones\n"
    "Ana,(617) 555-0100,,es,sms,42.36,-71.06,beat-3\n"
    "Bad phone,12,,en,sms,,,\n"
    "Bo,,bo@example.org,en,email,,,beat-3;beat-4\n"
    "Bad lat,+16175550199,,en,sms,95,-71,\n"
    "Ana again,+1 617 555 0100,,en,,,,\n"
)


def test_csv_import_keeps_good_rows_and_reports_bad_ones(client, headers, settings):
    response = client.post(f"{URL}/import", data=CSV.encode(),
                           headers={**headers, "Content-Type": "text/csv; charset=utf-8"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["created"], body["updated"]) == (2, 1)
    assert [r["row"] for r in body["rejected"]] == [2, 4]
    assert "phone" in body["rejected"][0]["errors"]
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(Subscriber.name).where(Subscriber.phone == "+16175550100")) \
            == "Ana again"


def test_json_list_import(client, headers):
    response = client.post(f"{URL}/import", json=[ANA, {"phone": "nope"}, "not an object"],
                           headers=headers)
    body = response.get_json()
    assert (response.status_code, body["created"]) == (200, 1)
    assert [r["row"] for r in body["rejected"]] == [2, 3]


def test_import_refuses_other_content_types(client, headers):
    response = client.post(f"{URL}/import", data=b"<xml/>",
                           headers={**headers, "Content-Type": "application/xml"})
    assert response.status_code == 415
    assert response.is_json


def test_import_reports_an_unusable_csv_header(client, headers):
    response = client.post(f"{URL}/import", data=b"who,where\nAna,home\n",
                           headers={**headers, "Content-Type": "text/csv"})
    assert response.status_code == 422
    assert "csv" in response.get_json()["errors"]


def test_import_refuses_csv_that_is_not_utf8(client, headers):
    response = client.post(f"{URL}/import", data="name,phone\nJosé,+16175550100\n".encode("utf-16"),
                           headers={**headers, "Content-Type": "text/csv"})
    assert response.status_code == 422


def test_every_write_is_an_audit_event_without_personal_data(client, auth, settings):
    headers = auth("dispatcher")
    sub = create(client, headers).get_json()
    client.patch(f"{URL}/{sub['id']}", json={"name": "Ana M"}, headers=headers)
    client.post(f"{URL}/import", data=CSV.encode(), headers={**headers, "Content-Type": "text/csv"})
    client.delete(f"{URL}/{sub['id']}", headers=headers)
    create(client, headers, {"phone": "12"})  # refused: no event
    with session_scope(settings.database_url) as session:
        events = session.execute(select(AuditEvent.actor, AuditEvent.action, AuditEvent.object,
                                         AuditEvent.details).order_by(AuditEvent.id)).all()
    assert [(e.actor, e.action) for e in events] == [
        ("token:dispatcher-client", "subscriber.create"),
        ("token:dispatcher-client", "subscriber.update"),
        ("token:dispatcher-client", "subscriber.import"),
        ("token:dispatcher-client", "subscriber.erase")]
    assert events[0].object == f"subscriber:{sub['id']}"
    assert "5550100" not in repr([e.details for e in events])


def test_quiet_hours_are_the_default_unless_a_resident_sets_their_own(client, headers):
    created = create(client, headers).get_json()
    assert created["quiet_hours"] is None
    url = f"{URL}/{created['id']}"
    changed = client.patch(url, json={"quiet_hours": "22:30-6:00"}, headers=headers)
    assert changed.status_code == 200 and changed.get_json()["quiet_hours"] == "22:30-06:00"
    assert client.get(url, headers=headers).get_json()["quiet_hours"] == "22:30-06:00"
    assert client.patch(url, json={"quiet_hours": "OFF"}, headers=headers).get_json()[
        "quiet_hours"] == "off"
    assert client.patch(url, json={"quiet_hours": None}, headers=headers).get_json()[
        "quiet_hours"] is None


def test_a_new_resident_may_come_with_quiet_hours(client, headers):
    body = {**ANA, "quiet_hours": "23:00-07:00"}
    assert create(client, headers, body).get_json()["quiet_hours"] == "23:00-07:00"


@pytest.mark.parametrize("value", ["21:00", "9pm-8am", "25:00-08:00", "08:00-08:00", 2100, ""])
def test_bad_quiet_hours_get_422_naming_the_field_in_plain_words(client, headers, value):
    response = create(client, headers, {**ANA, "quiet_hours": value})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"quiet_hours"}
    assert "21:00-08:00" in errors["quiet_hours"][0] or "different times" in errors["quiet_hours"][0]

"""/api/v1/alerts: drafts, previews, one send only, cancel with follow-up, deliveries and CSV."""
from __future__ import annotations

import copy
import csv
import io

import pytest
import redis
from rq import Queue
from sqlalchemy import func, select

from notifier.db import session_scope
from notifier.models import Alert, AuditEvent, Delivery, Location, Zone
from tests.admin_ui.conftest import make_delivery, make_subscriber

URL = "/api/v1/alerts"
SQUARE = {"type": "Polygon", "coordinates": [[[-71.07, 42.35], [-71.05, 42.35], [-71.05, 42.37],
                                              [-71.07, 42.37], [-71.07, 42.35]]]}
ALERT = {
    "headline": "Shelter in place", "event": "Hazardous Materials Warning",
    "messages": {"en": "Chemical leak near Main St. Stay indoors, close windows.",
                 "es": "Fuga química cerca de Main St. Quédese adentro y cierre las ventanas."},
    "category": "Safety", "severity": "Severe", "urgency": "Immediate", "certainty": "Observed",
    "status": "Actual", "msg_type": "Alert", "references": None,
    "area": {"description": "Downtown", "geojson": SQUARE,
             "circles": [{"lat": 42.36, "lon": -71.06, "radius_m": 800}], "zones": [],
             "everyone": False},
    "channels": ["sms", "email"], "expires_at": "2099-11-22T06:00:00Z", "confirm": False,
}


@pytest.fixture
def headers(auth):
    return auth("dispatcher")


@pytest.fixture
def draft(client, headers) -> dict:
    response = client.post(URL, json=ALERT, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def fan_out_jobs(settings) -> list[str]:
    conn = redis.Redis.from_url(settings.redis_url)
    return Queue("alerts", connection=conn).job_ids


def with_changes(**changes) -> dict:
    body = copy.deepcopy(ALERT)
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


def test_it_creates_a_draft(draft):
    assert draft["state"] == "draft"
    assert isinstance(draft["id"], int)
    assert draft["messages"]["es"].startswith("Fuga")


BAD_ALERTS = [
    (with_changes(headline=...), "headline"),
    (with_changes(messages={}), "messages"),
    (with_changes(messages={"xx-nope": "hi"}), "messages"),
    (with_changes(messages="Stay indoors"), "messages"),
    (with_changes(severity="Bad"), "severity"),
    (with_changes(status="Actaul"), "status"),
    (with_changes(status=...), "status"),
    (with_changes(msg_type="Shout"), "msg_type"),
    (with_changes(channels=["pigeon"]), "channels"),
    (with_changes(channels=[]), "channels"),
    (with_changes(expires_at="yesterday"), "expires_at"),
    (with_changes(expires_at="2001-01-01T00:00:00Z"), "expires_at"),
    (with_changes(area={"everyone": False}), "area"),
    (with_changes(area={"zones": ["no-such-zone"]}), "area"),
    (with_changes(area={"circles": [{"lat": 42.36, "lon": -71.06, "radius_m": 0}]}), "area"),
    (with_changes(area={"circles": [{"lat": 42.36, "lon": -71.06, "radius_m": 300000}]}), "area"),
    (with_changes(area={"geojson": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}}), "area"),
    (with_changes(area={"geojson": {"type": "Polygon", "coordinates": [
        [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}), "area"),
    (with_changes(area={"geojson": {"type": "Polygon", "coordinates": [
        [[0, 0], [200, 0], [200, 1], [0, 0]]]}}), "area"),
    (with_changes(area="downtown"), "area"),
    (with_changes(color="red"), "color"),
]


@pytest.mark.parametrize("body, field", BAD_ALERTS)
def test_bad_alerts_get_422_naming_the_field(client, headers, body, field):
    response = client.post(URL, json=body, headers=headers)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize("body, field", BAD_ALERTS[:3])
def test_bad_previews_get_422_too(client, headers, body, field):
    response = client.post(f"{URL}/preview", json=body, headers=headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_a_zone_in_the_database_is_a_known_zone(client, headers, settings):
    with session_scope(settings.database_url) as session:
        session.add(Zone(code="beat-3", name="Beat 3", geometry=SQUARE, keywords=[]))
    response = client.post(URL, json=with_changes(area={"zones": ["beat-3"]}), headers=headers)
    assert response.status_code == 201


def test_preview_counts_without_storing_anything(client, headers, settings):
    with session_scope(settings.database_url) as session:
        sub = make_subscriber(session, phone="+16175550100", email="ana@example.org",
                              language="es", channels=["sms", "email"])
        sub.locations.append(Location(label="home", lat=42.36, lon=-71.06))
        make_subscriber(session, phone="+16175550101", language="en")  # no location
    response = client.post(f"{URL}/preview", json=ALERT, headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["recipients"] == 1
    assert body["deliveries"]["sms"] == 1 and body["deliveries"]["email"] == 1
    assert body["languages"] == {"es": 1}
    assert body["sms"]["en"]["segments"] >= 1
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 0


def test_send_answers_202_and_queues_exactly_one_fan_out(client, headers, draft, settings):
    response = client.post(f"{URL}/{draft['id']}/send", headers=headers)
    assert response.status_code == 202
    assert response.get_json()["state"] == "sending"
    assert fan_out_jobs(settings) == [f"fan-out-{draft['id']}"]
    again = client.post(f"{URL}/{draft['id']}/send", headers=headers)
    assert again.status_code == 409
    assert again.get_json()["error"]
    assert fan_out_jobs(settings) == [f"fan-out-{draft['id']}"]


def test_sending_an_unknown_alert_is_404(client, headers, settings):
    assert client.post(f"{URL}/4242/send", headers=headers).status_code == 404
    assert fan_out_jobs(settings) == []


def test_cancel_stops_undelivered_work(client, headers, draft, settings):
    client.post(f"{URL}/{draft['id']}/send", headers=headers)
    with session_scope(settings.database_url) as session:
        alert = session.get(Alert, draft["id"])
        pending = make_delivery(session, alert, make_subscriber(session), status="pending").id
        done = make_delivery(session, alert, make_subscriber(session, phone="+16175550101"),
                             status="delivered").id
    response = client.post(f"{URL}/{draft['id']}/cancel", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["state"], body["follow_up"]) == ("cancelled", None)
    with session_scope(settings.database_url) as session:
        assert session.get(Delivery, pending).status == "cancelled"
        assert session.get(Delivery, done).status == "delivered"
    assert client.post(f"{URL}/{draft['id']}/cancel", headers=headers).status_code == 409


def test_cancel_with_a_message_sends_an_all_clear_referencing_the_original(
        client, headers, draft, settings):
    client.post(f"{URL}/{draft['id']}/send", headers=headers)
    response = client.post(f"{URL}/{draft['id']}/cancel",
                           json={"message": {"en": "All clear. The leak is fixed."}},
                           headers=headers)
    assert response.status_code == 200, response.get_json()
    follow_up = response.get_json()["follow_up"]
    assert follow_up["msg_type"] == "Cancel"
    assert follow_up["state"] == "sending"
    assert draft["identifier"] in follow_up["references"]
    assert fan_out_jobs(settings) == [f"fan-out-{draft['id']}", f"fan-out-{follow_up['id']}"]


@pytest.mark.parametrize("body, field", [
    ({"message": "All clear"}, "message"), ({"msg_type": "Alert"}, "msg_type"),
    ({"surprise": 1}, "surprise"),
])
def test_a_bad_cancel_body_is_422_and_cancels_nothing(client, headers, draft, body, field):
    client.post(f"{URL}/{draft['id']}/send", headers=headers)
    response = client.post(f"{URL}/{draft['id']}/cancel", json=body, headers=headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert client.get(f"{URL}/{draft['id']}", headers=headers).get_json()["state"] == "sending"


def test_get_gives_the_alert_with_stats(client, auth, draft, settings):
    with session_scope(settings.database_url) as session:
        alert = session.get(Alert, draft["id"])
        sub = make_subscriber(session)
        make_delivery(session, alert, sub, status="delivered")
        make_delivery(session, alert, sub, channel="email", address="a@example.org",
                      status="failed")
    body = client.get(f"{URL}/{draft['id']}", headers=auth("auditor")).get_json()
    assert body["id"] == draft["id"]
    stats = body["stats"]
    assert stats["recipients"] == 1
    assert stats["channels"]["sms"]["delivered"] == 1
    assert stats["channels"]["email"]["failed"] == 1


def test_list_is_paged_newest_first(client, headers):
    ids = [client.post(URL, json=ALERT, headers=headers).get_json()["id"] for _ in range(3)]
    body = client.get(f"{URL}?per_page=2", headers=headers).get_json()
    assert [a["id"] for a in body["items"]] == ids[::-1][:2]
    assert (body["total"], body["per_page"]) == (3, 2)


@pytest.fixture
def delivered_alert(settings, draft) -> int:
    with session_scope(settings.database_url) as session:
        alert = session.get(Alert, draft["id"])
        a = make_subscriber(session, phone="+16175550100")
        b = make_subscriber(session, phone="+16175550101", name="=HYPERLINK(\"http://evil\")")
        make_delivery(session, alert, a, status="delivered", provider_id="SM1")
        make_delivery(session, alert, b, status="failed", provider_id="=cmd|' /C calc'!A0",
                      error_code="30006")
        make_delivery(session, alert, a, channel="email", address="@SUM(1+1)@example.org",
                      status="sent")
    return draft["id"]


def test_deliveries_are_listed_with_filters(client, auth, delivered_alert):
    url = f"{URL}/{delivered_alert}/deliveries"
    body = client.get(url, headers=auth("auditor")).get_json()
    assert body["total"] == 3
    first = body["items"][0]
    assert set(first) >= {"subscriber_id", "channel", "address", "language", "status",
                          "provider_id", "error_code", "attempts", "queued_at", "sent_at",
                          "delivered_at", "acknowledged_at"}
    sms_failed = client.get(f"{url}?channel=sms&status=failed", headers=auth("auditor")).get_json()
    assert [d["error_code"] for d in sms_failed["items"]] == ["30006"]
    bad = client.get(f"{url}?status=lost", headers=auth("auditor"))
    assert bad.status_code == 422 and "status" in bad.get_json()["errors"]
    assert client.get(f"{URL}/4242/deliveries", headers=auth("auditor")).status_code == 404


def test_the_deliveries_csv_is_formula_safe(client, auth, delivered_alert):
    # A dispatcher: auditors read addresses masked (DESIGN §9).
    response = client.get(f"{URL}/{delivered_alert}/deliveries.csv", headers=auth("dispatcher"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 3
    assert rows[0]["address"] == "'+16175550100"
    assert rows[1]["provider_id"] == "'=cmd|' /C calc'!A0"
    assert rows[2]["address"] == "'@SUM(1+1)@example.org"
    for row in rows:
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values())


def test_the_csv_takes_the_same_filters(client, auth, delivered_alert):
    response = client.get(f"{URL}/{delivered_alert}/deliveries.csv?channel=email",
                          headers=auth("auditor"))
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["channel"] for r in rows] == ["email"]


def test_alert_writes_are_audited_as_the_token(client, headers, draft, settings):
    client.post(f"{URL}/{draft['id']}/send", headers=headers)
    client.post(f"{URL}/{draft['id']}/send", headers=headers)  # refused: no event
    client.post(f"{URL}/{draft['id']}/cancel", headers=headers)
    with session_scope(settings.database_url) as session:
        events = session.execute(select(AuditEvent.actor, AuditEvent.action, AuditEvent.object)
                                 .order_by(AuditEvent.id)).all()
    object_ = f"alert:{draft['id']}"
    assert [tuple(e) for e in events] == [
        ("token:dispatcher-client", "alert.create", object_),
        ("token:dispatcher-client", "alert.send", object_),
        ("token:dispatcher-client", "alert.cancel", object_)]

"""/api/v1/alerts: drafts, previews, one send only, cancel with follow-up, deliveries and CSV."""
from __future__ import annotations

import copy
import dataclasses
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
    conn = redis.Redis.from_url(settings.redis_url)  # Severe alerts fan out in the emergency lane
    return [j for name in ("emergency-alerts", "alerts") for j in Queue(name, connection=conn).job_ids]


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
    # An SMS over Twilio's 1,600 characters (DESIGN §9: `errors.messages`, naming the language).
    (with_changes(messages={"en": "Leave the river district now by Route 9. " * 40}), "messages"),
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


# The two-person rule (DESIGN §9), whoever sends: API tokens meet it as the pages do.

def app_client(settings, **changes):
    from admin_ui import create_app

    app = create_app(dataclasses.replace(settings, **changes))
    app.config["TESTING"] = True
    return app.test_client()


def residents_downtown(settings, n: int = 2) -> None:
    with session_scope(settings.database_url) as session:
        for i in range(n):
            sub = make_subscriber(session, phone=f"+1617555{i:04d}")
            sub.locations.append(Location(label="home", lat=42.36, lon=-71.06))


def nothing_went_out(settings, alert_id: int) -> None:
    assert fan_out_jobs(settings) == []
    assert Queue("alerts", connection=redis.Redis.from_url(settings.redis_url)).count == 0
    with session_scope(settings.database_url) as session:
        assert session.get(Alert, alert_id).state == "draft"
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "alert.send")) == 0


def test_send_over_the_threshold_is_409_with_the_reasons_and_queues_nothing(settings, auth):
    residents_downtown(settings, 2)
    client = app_client(settings, approval_threshold=1)
    alert_id = client.post(URL, json=ALERT, headers=auth("dispatcher")).get_json()["id"]
    response = client.post(f"{URL}/{alert_id}/send", headers=auth("dispatcher"))
    assert response.status_code == 409
    assert response.get_json() == {"error": "approval required", "approval": {
        "needed": True, "residents": 2, "over_threshold": True, "larger_than_any_zone": False,
        "everyone": False,
        "reasons": ["It reaches 2 residents, more than the approval threshold of 1."]}}
    nothing_went_out(settings, alert_id)


def test_an_actual_alert_to_everyone_needs_approval_whatever_the_threshold(settings, auth):
    residents_downtown(settings, 1)
    client = app_client(settings, approval_threshold=10**9)
    alert_id = client.post(URL, json=with_changes(area={"everyone": True}),
                           headers=auth("dispatcher")).get_json()["id"]
    response = client.post(f"{URL}/{alert_id}/send", headers=auth("dispatcher"))
    assert response.status_code == 409
    assert response.get_json()["approval"] == {
        "needed": True, "residents": 1, "over_threshold": False, "larger_than_any_zone": False,
        "everyone": True, "reasons": ["It goes to everyone in the service area."]}
    nothing_went_out(settings, alert_id)


def test_an_exercise_to_everyone_needs_no_approval(client, headers, settings):
    alert_id = client.post(URL, json=with_changes(status="Exercise", area={"everyone": True}),
                           headers=headers).get_json()["id"]
    assert client.post(f"{URL}/{alert_id}/send", headers=headers).status_code == 202


def test_an_area_larger_than_any_zone_needs_approval(client, headers, settings):
    with session_scope(settings.database_url) as session:
        session.add(Zone(code="corner", name="Corner", keywords=[], geometry={
            "type": "Polygon", "coordinates": [[[-71.07, 42.35], [-71.069, 42.35],
                                                [-71.069, 42.351], [-71.07, 42.351],
                                                [-71.07, 42.35]]]},
            min_lat=42.35, min_lon=-71.07, max_lat=42.351, max_lon=-71.069))
    alert_id = client.post(URL, json=ALERT, headers=headers).get_json()["id"]
    response = client.post(f"{URL}/{alert_id}/send", headers=headers)
    assert response.status_code == 409
    approval = response.get_json()["approval"]
    assert (approval["larger_than_any_zone"], approval["over_threshold"]) == (True, False)
    nothing_went_out(settings, alert_id)


def test_a_second_dispatcher_approves_then_the_author_sends(settings, token):
    author = {"Authorization": f"Bearer {token('dispatcher', 'cad')}"}
    second = {"Authorization": f"Bearer {token('dispatcher', 'supervisor')}"}
    auditor = {"Authorization": f"Bearer {token('auditor', 'audit')}"}
    residents_downtown(settings, 2)
    client = app_client(settings, approval_threshold=1)
    alert_id = client.post(URL, json=ALERT, headers=author).get_json()["id"]
    waiting = client.get(f"{URL}/{alert_id}", headers=auditor).get_json()
    assert waiting["state"] == "draft"
    assert waiting["approval"] == {"needed": True, "approved_by": None, "approved_at": None,
                                   "residents": 2, "over_threshold": True,
                                   "larger_than_any_zone": False, "everyone": False,
                                   "reasons": ["It reaches 2 residents, more than the approval "
                                               "threshold of 1."],
                                   "approver_roles": ["dispatcher", "admin"]}
    assert waiting["awaiting_approval"] is True
    own = client.post(f"{URL}/{alert_id}/approve", headers=author)
    assert own.status_code == 403 and own.get_json()["error"]
    assert client.post(f"{URL}/{alert_id}/approve", headers=auditor).status_code == 403
    approved = client.post(f"{URL}/{alert_id}/approve", headers=second)
    assert approved.status_code == 200
    body = approved.get_json()
    assert body["approved_by"] == "token:supervisor" and body["approved_at"].endswith("Z")
    assert client.get(f"{URL}/{alert_id}", headers=auditor).get_json()["approval"][
        "approved_by"] == "token:supervisor"
    sent = client.post(f"{URL}/{alert_id}/send", headers=author)
    assert sent.status_code == 202
    assert fan_out_jobs(settings) == [f"fan-out-{alert_id}"]
    assert client.post(f"{URL}/{alert_id}/approve", headers=second).status_code == 409
    with session_scope(settings.database_url) as session:
        actions = session.execute(select(AuditEvent.actor, AuditEvent.action)
                                  .where(AuditEvent.object == f"alert:{alert_id}")
                                  .order_by(AuditEvent.id)).all()
    assert [tuple(a) for a in actions] == [("token:cad", "alert.create"),
                                           ("token:supervisor", "alert.approve"),
                                           ("token:cad", "alert.send")]


def test_an_edit_after_approval_voids_it(settings, token):
    author = {"Authorization": f"Bearer {token('dispatcher', 'cad')}"}
    second = {"Authorization": f"Bearer {token('dispatcher', 'supervisor')}"}
    residents_downtown(settings, 2)
    client = app_client(settings, approval_threshold=1)
    alert_id = client.post(URL, json=ALERT, headers=author).get_json()["id"]
    assert client.post(f"{URL}/{alert_id}/approve", headers=second).status_code == 200
    edited = client.patch(f"{URL}/{alert_id}", headers=author,
                          json={"messages": {"en": "Chemical leak: stay indoors."}})
    assert edited.status_code == 200, edited.get_json()
    body = edited.get_json()
    assert body["messages"] == {"en": "Chemical leak: stay indoors."}
    assert body["headline"] == ALERT["headline"] and body["area"] == ALERT["area"]
    assert body["approval"]["needed"] is True and body["approval"]["approved_by"] is None
    again = client.post(f"{URL}/{alert_id}/send", headers=author)
    assert again.status_code == 409 and again.get_json()["error"] == "approval required"
    nothing_went_out(settings, alert_id)
    with session_scope(settings.database_url) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "alert.update"))
        assert event.actor == "token:cad" and event.details["fields"] == ["messages"]
        assert event.details["approval_cleared"] is True


def test_patch_validates_like_create_and_edits_only_drafts(client, headers, draft, settings):
    bad = client.patch(f"{URL}/{draft['id']}", headers=headers,
                       json={"area": {"zones": ["no-such-zone"]}, "severity": "Bad"})
    assert bad.status_code == 422
    assert {"area", "severity"} <= set(bad.get_json()["errors"])
    unknown = client.patch(f"{URL}/{draft['id']}", headers=headers, json={"colour": "red"})
    assert unknown.status_code == 422 and "colour" in unknown.get_json()["errors"]
    assert client.get(f"{URL}/{draft['id']}", headers=headers).get_json()["severity"] == "Severe"
    assert client.post(f"{URL}/{draft['id']}/send", headers=headers).status_code == 202
    late = client.patch(f"{URL}/{draft['id']}", headers=headers, json={"headline": "Changed"})
    assert late.status_code == 409 and late.get_json()["error"]
    assert client.patch(f"{URL}/4242", headers=headers, json={}).status_code == 404


def sent_alert_reaching_one(client, headers, settings) -> dict:
    """A sent Actual alert whose small circle reaches one of three residents."""
    with session_scope(settings.database_url) as session:
        for i, lat in enumerate((42.36, 42.50, 42.60)):
            sub = make_subscriber(session, phone=f"+1617555{i:04d}")
            sub.locations.append(Location(label="home", lat=lat, lon=-71.06))
    body = with_changes(area={"circles": [{"lat": 42.36, "lon": -71.06, "radius_m": 500}]})
    alert = client.post(URL, json=body, headers=headers).get_json()
    assert client.post(f"{URL}/{alert['id']}/send", headers=headers).status_code == 202
    return alert


def test_a_follow_up_widened_to_everyone_waits_as_a_draft_for_approval(
        client, headers, settings, token):
    original = sent_alert_reaching_one(client, headers, settings)
    response = client.post(f"{URL}/{original['id']}/cancel", headers=headers, json={
        "msg_type": "Update", "message": {"messages": {"en": "The leak spreads: stay indoors."},
                                          "area": {"everyone": True}}})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == "cancelled"
    follow_up = body["follow_up"]
    assert follow_up["state"] == "draft" and follow_up["area"] == {"everyone": True}
    assert follow_up["approval"]["needed"] is True and follow_up["approval"]["everyone"] is True
    assert follow_up["approval"]["residents"] == 3
    assert fan_out_jobs(settings) == [f"fan-out-{original['id']}"]  # the follow-up waits
    refused = client.post(f"{URL}/{follow_up['id']}/send", headers=headers)
    assert refused.status_code == 409 and refused.get_json()["approval"]["everyone"] is True
    second = {"Authorization": f"Bearer {token('dispatcher', 'supervisor')}"}
    assert client.post(f"{URL}/{follow_up['id']}/approve", headers=second).status_code == 200
    assert client.post(f"{URL}/{follow_up['id']}/send", headers=headers).status_code == 202
    assert fan_out_jobs(settings) == [f"fan-out-{original['id']}", f"fan-out-{follow_up['id']}"]


def test_an_all_clear_to_the_same_residents_goes_out_at_once_even_to_everyone(
        client, headers, settings, token):
    residents_downtown(settings, 1)
    alert_id = client.post(URL, json=with_changes(area={"everyone": True}),
                           headers=headers).get_json()["id"]
    second = {"Authorization": f"Bearer {token('dispatcher', 'supervisor')}"}
    client.post(f"{URL}/{alert_id}/approve", headers=second)
    assert client.post(f"{URL}/{alert_id}/send", headers=headers).status_code == 202
    response = client.post(f"{URL}/{alert_id}/cancel", headers=headers,
                           json={"message": {"en": "All clear: the leak is fixed."}})
    follow_up = response.get_json()["follow_up"]
    assert follow_up["state"] == "sending" and follow_up["approval"]["needed"] is False
    assert fan_out_jobs(settings) == [f"fan-out-{alert_id}", f"fan-out-{follow_up['id']}"]


@pytest.mark.parametrize("message", [
    {"en": ALERT["messages"]["en"]},
    {"en": "All clear.", "es": "  fuga QUÍMICA cerca de Main St.  Quédese adentro y cierre las "
                               "ventanas. "},
    {"messages": {"en": "chemical leak near main st.stay indoors, close windows."}},
])
def test_a_follow_up_repeating_the_original_text_is_422_and_cancels_nothing(
        client, headers, draft, settings, message):
    client.post(f"{URL}/{draft['id']}/send", headers=headers)
    response = client.post(f"{URL}/{draft['id']}/cancel", headers=headers,
                           json={"message": message})
    assert response.status_code == 422
    assert "message" in response.get_json()["errors"]
    assert client.get(f"{URL}/{draft['id']}", headers=headers).get_json()["state"] == "sending"
    assert fan_out_jobs(settings) == [f"fan-out-{draft['id']}"]


def test_a_cancelled_alert_can_still_get_its_all_clear(client, headers, draft, settings):
    client.post(f"{URL}/{draft['id']}/send", headers=headers)
    assert client.post(f"{URL}/{draft['id']}/cancel", headers=headers).status_code == 200
    response = client.post(f"{URL}/{draft['id']}/cancel", headers=headers,
                           json={"message": {"en": "All clear. The leak is fixed."}})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == "cancelled" and body["follow_up"]["state"] == "sending"
    assert body["follow_up"]["references_alert_id"] == draft["id"]
    assert fan_out_jobs(settings) == [f"fan-out-{draft['id']}", f"fan-out-{body['follow_up']['id']}"]
    assert client.post(f"{URL}/{draft['id']}/cancel", headers=headers).status_code == 409
    with session_scope(settings.database_url) as session:
        cancels = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.in_(("alert.cancel", "alert.replace", "alert.discard"))))
    assert cancels == 1


def test_lists_give_only_who_approved(client, headers, draft):
    (item,) = client.get(URL, headers=headers).get_json()["items"]
    assert item["approval"] == {"approved_by": None, "approved_at": None}

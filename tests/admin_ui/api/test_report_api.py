"""GET /api/v1/alerts/<id>/report: who may read it, 404s, and an answer true to the OpenAPI shape."""
from __future__ import annotations

from datetime import timedelta

import pytest

from notifier import audit
from notifier.db import session_scope
from tests.admin_ui.api.test_openapi import check, check_answer
from tests.admin_ui.conftest import NOW, make_alert, make_delivery, make_subscriber

PATH = "/api/v1/alerts/{alert_id}/report"


@pytest.fixture
def document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


@pytest.fixture
def sent_alert(settings) -> int:
    """A sent alert: two residents by SMS, one handed over and delivered, one failed."""
    with session_scope(settings.database_url) as s:
        alert = make_alert(s, state="sent", sent_at=NOW, fanned_out_at=NOW, confirm=True)
        ana = make_subscriber(s)
        ben = make_subscriber(s, name="Ben", phone="+16175550199", language="es")
        make_delivery(s, alert, ana, status="delivered", sent_at=NOW + timedelta(seconds=2),
                      delivered_at=NOW + timedelta(seconds=5),
                      acknowledged_at=NOW + timedelta(minutes=3))
        make_delivery(s, alert, ben, status="undelivered", language="es", error_code="30005",
                      error_message="+16175550199 unknown", sent_at=NOW + timedelta(seconds=3))
        audit.record(s, "token:cad", "alert.send", f"alert:{alert.id}", {}, NOW)
        return alert.id


@pytest.mark.parametrize("role", ["admin", "dispatcher", "auditor"])
def test_admins_dispatchers_and_auditors_read_the_report(client, auth, sent_alert, role):
    response = client.get(f"/api/v1/alerts/{sent_alert}/report", headers=auth(role))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["alert"]["id"] == sent_alert and body["totals"]["handed_over"] == 2
    timeline = {e["event"]: e for e in body["timeline"]}
    assert timeline["sent"]["by"] == "token:cad" and timeline["handed_over_50"]["seconds"] == 2
    assert body["failures"][0]["description"] == "the number is unknown or no longer in service"
    assert body["acknowledgements"]["count"] == 1


def test_a_report_needs_a_token_and_names_no_address(client, auth, sent_alert):
    assert client.get(f"/api/v1/alerts/{sent_alert}/report").status_code == 401
    text = client.get(f"/api/v1/alerts/{sent_alert}/report", headers=auth("auditor")).get_data(
        as_text=True)
    assert "+1617555" not in text


def test_an_unknown_alert_is_a_json_404(client, auth, document):
    response = client.get("/api/v1/alerts/999/report", headers=auth("auditor"))
    assert response.status_code == 404 and "999" in response.get_json()["error"]
    check_answer(document, PATH, "GET", response)


def test_the_report_answer_matches_its_openapi_shape(client, auth, sent_alert, document):
    operation = document["paths"][PATH]["get"]
    assert operation["security"] == [{"bearerAuth": ["admin", "auditor", "dispatcher"]}]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Report"}
    check_answer(document, PATH, "GET",
                 client.get(f"/api/v1/alerts/{sent_alert}/report", headers=auth("dispatcher")))


def test_the_report_of_a_draft_without_deliveries_matches_it_too(client, auth, settings, document):
    with session_scope(settings.database_url) as s:
        draft = make_alert(s, state="draft").id
    response = client.get(f"/api/v1/alerts/{draft}/report", headers=auth("auditor"))
    assert response.status_code == 200
    check_answer(document, PATH, "GET", response)
    assert response.get_json()["over_time"]["buckets"] == 0


def test_the_report_shape_refuses_an_unknown_event(document):
    from jsonschema.exceptions import ValidationError

    with pytest.raises(ValidationError):
        check(document, {"$ref": "#/components/schemas/ReportEvent"},
              {"event": "launched", "at": None, "by": None, "seconds": None})

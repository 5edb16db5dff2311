"""Alerts with machine-translated messages through the API (DESIGN §11): stored and returned,
warned about in the preview, and an Actual send needs `accept_machine_translation`."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from notifier.db import session_scope
from notifier.models import Alert, AuditEvent
from tests.admin_ui.api.test_alerts import URL, fan_out_jobs, with_changes

MACHINE = with_changes(machine_translated=["es"])


@pytest.fixture
def headers(auth):
    return auth("dispatcher")


def create(client, headers, body) -> dict:
    response = client.post(URL, json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_marks_are_stored_and_returned(client, headers, settings):
    draft = create(client, headers, MACHINE)
    assert draft["machine_translated"] == ["es"]
    with session_scope(settings.database_url, readonly=True) as session:
        assert session.get(Alert, draft["id"]).machine_translated == ["es"]
    shown = client.get(f"{URL}/{draft['id']}", headers=headers).get_json()
    assert shown["machine_translated"] == ["es"]
    plain = create(client, headers, with_changes())
    assert plain["machine_translated"] == []


@pytest.mark.parametrize("marks,words", [(["de"], "de has no message"),
                                         (["es", "es"], "listed twice"),
                                         (["xx-nope"], "not a language"),
                                         ("es", "Not a valid list")])
def test_a_mark_without_its_message_is_a_422(client, headers, marks, words):
    response = client.post(URL, json=with_changes(machine_translated=marks), headers=headers)
    assert response.status_code == 422
    assert words in " ".join(response.get_json()["errors"]["machine_translated"])


def test_the_preview_warns_naming_the_languages(client, headers):
    response = client.post(f"{URL}/preview", json=MACHINE, headers=headers)
    assert response.status_code == 200
    warnings = [w for w in response.get_json()["warnings"] if "Machine translated" in w]
    assert len(warnings) == 1 and "Spanish (es)" in warnings[0]
    assert "accept" in warnings[0]
    plain = client.post(f"{URL}/preview", json=with_changes(), headers=headers).get_json()
    assert not [w for w in plain["warnings"] if "Machine translated" in w]


def test_an_actual_send_needs_the_acceptance(client, headers, settings):
    draft = create(client, headers, MACHINE)
    refused = client.post(f"{URL}/{draft['id']}/send", headers=headers)
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["machine_translated"] == ["es"]
    assert "Spanish (es)" in body["error"] and "accept_machine_translation" in body["error"]
    assert fan_out_jobs(settings) == []
    no = client.post(f"{URL}/{draft['id']}/send", json={"accept_machine_translation": False},
                     headers=headers)
    assert no.status_code == 409

    sent = client.post(f"{URL}/{draft['id']}/send", json={"accept_machine_translation": True},
                       headers=headers)
    assert sent.status_code == 202, sent.get_json()
    assert fan_out_jobs(settings) == [f"fan-out-{draft['id']}"]
    with session_scope(settings.database_url, readonly=True) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.send")).one()
        assert event.details["machine_translated"] == ["es"]
        assert event.details["machine_translation_accepted"] is True


@pytest.mark.parametrize("status", ["Exercise", "Test"])
def test_an_exercise_or_test_needs_no_acceptance(client, headers, status):
    draft = create(client, headers, with_changes(machine_translated=["es"], status=status))
    assert client.post(f"{URL}/{draft['id']}/send", headers=headers).status_code == 202


def test_an_alert_without_machine_texts_sends_as_before(client, headers):
    draft = create(client, headers, with_changes())
    assert client.post(f"{URL}/{draft['id']}/send", headers=headers).status_code == 202


def test_a_bad_acceptance_value_is_a_422(client, headers):
    draft = create(client, headers, MACHINE)
    response = client.post(f"{URL}/{draft['id']}/send",
                           json={"accept_machine_translation": "maybe"}, headers=headers)
    assert response.status_code == 422
    assert "accept_machine_translation" in response.get_json()["errors"]


def test_an_edit_can_clear_the_marks_and_then_no_acceptance_is_needed(client, headers):
    draft = create(client, headers, MACHINE)
    edited = client.patch(f"{URL}/{draft['id']}", json={"machine_translated": []},
                          headers=headers)
    assert edited.status_code == 200 and edited.get_json()["machine_translated"] == []
    assert client.post(f"{URL}/{draft['id']}/send", headers=headers).status_code == 202


def test_an_actual_follow_up_with_machine_texts_needs_the_acceptance(client, headers, settings):
    draft = create(client, headers, with_changes())
    assert client.post(f"{URL}/{draft['id']}/send", headers=headers).status_code == 202
    follow_up = {"headline": "All clear", "messages": {"en": "The leak is fixed.",
                                                       "es": "La fuga está reparada."},
                 "machine_translated": ["es"]}
    refused = client.post(f"{URL}/{draft['id']}/cancel", json={"message": follow_up},
                          headers=headers)
    assert refused.status_code == 409 and refused.get_json()["machine_translated"] == ["es"]
    with session_scope(settings.database_url, readonly=True) as session:
        assert session.get(Alert, draft["id"]).state != "cancelled"  # nothing changed
    done = client.post(f"{URL}/{draft['id']}/cancel", json={
        "message": follow_up, "accept_machine_translation": True}, headers=headers)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["follow_up"]["machine_translated"] == ["es"]

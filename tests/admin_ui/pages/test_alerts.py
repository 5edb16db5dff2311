"""Compose, preview, send (typed SEND, two-person rule), the live page, cancel and follow-up."""
from __future__ import annotations

import dataclasses
import json

import pytest
from rq import Queue
import redis as redis_lib
from sqlalchemy import select

from admin_ui import create_app
from notifier.db import session_scope
from notifier.models import Alert, Location, Subscriber, SubscriberGroup
from tests.admin_ui.conftest import NOW, make_alert, make_delivery, make_subscriber
from tests.admin_ui.pages.conftest import csrf_token, page_client, sign_in_with_code

SQUARE = {"type": "Polygon", "coordinates": [[[-71.07, 42.35], [-71.05, 42.35], [-71.05, 42.37],
                                               [-71.07, 42.37], [-71.07, 42.35]]]}


@pytest.fixture
def residents(settings):
    """Two residents inside SQUARE, one of them in the test group."""
    with session_scope(settings.database_url) as session:
        for i, groups in enumerate((["test"], [])):
            sub = Subscriber(name=f"R{i}", phone=f"+1617555{i:04d}", language="en", channels=["sms"])
            sub.locations.append(Location(lat=42.36, lon=-71.06))
            sub.group_links.extend(SubscriberGroup(name=g) for g in groups)
            session.add(sub)


def form(client, **overrides) -> dict:
    data = {"csrf_token": client.csrf, "status": "Actual", "headline": "Boil water",
            "category": "Health", "severity": "Moderate", "urgency": "Expected",
            "certainty": "Likely", "lang_0": "en", "text_0": "Boil tap water before drinking.",
            "lang_1": "es", "text_1": "Hierva el agua del grifo antes de beberla.",
            "channels": "sms", "area_geojson": json.dumps(SQUARE), "area_description": "Downtown"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def compose(client, **overrides) -> int:
    response = client.post("/alerts/new", data=form(client, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.location.rstrip("/").split("/")[-2])


def alert_row(settings, alert_id) -> Alert:
    with session_scope(settings.database_url, readonly=True) as session:
        alert = session.get(Alert, alert_id)
        session.expunge(alert)
        return alert


def test_the_compose_page_asks_for_the_status_with_no_default(signed_in):
    html = signed_in("dispatcher").get("/alerts/new").get_data(as_text=True)
    for status in ("Actual", "Exercise", "Test"):
        assert f'data-testid="status-{status}"' in html
    assert 'name="status" value="Actual" required data-testid="status-Actual">' in html
    assert "checked" not in html.split('id="field-status"')[1].split("</fieldset>")[0]


def test_a_form_without_status_or_area_comes_back_with_its_errors(signed_in):
    client = signed_in("dispatcher")
    response = client.post("/alerts/new", data=form(client, status=None, area_geojson=None))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-testid="errors-status"' in html and 'data-testid="errors-area"' in html
    assert "Hierva el agua" in html  # what was typed is kept


def test_unreadable_drawn_geojson_is_explained(signed_in):
    client = signed_in("dispatcher")
    response = client.post("/alerts/new", data=form(client, area_geojson="{not json"))
    assert response.status_code == 422
    assert "not valid JSON" in response.get_data(as_text=True)


def test_compose_stores_a_draft_and_its_preview_shows_reach_and_each_language_sms(
        signed_in, residents, settings):
    client = signed_in("dispatcher", "dana")
    alert_id = compose(client, status="Exercise")
    alert = alert_row(settings, alert_id)
    assert (alert.state, alert.status, alert.created_by) == ("draft", "Exercise", "user:dana")
    assert alert.area["geojson"] == SQUARE and alert.messages["es"].startswith("Hierva")
    html = client.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    assert 'data-testid="preview-recipients">1<' in html  # an exercise: the test group only
    assert "[EXERCISE] Tocsin demo: Boil tap water" in html
    assert "[SIMULACRO] Tocsin demo: Hierva" in html
    assert 'data-status="Exercise"' in html


def test_an_actual_alert_goes_out_only_after_typing_send(signed_in, residents, settings, redis_url):
    client = signed_in("dispatcher")
    alert_id = compose(client)
    refused = client.post(f"/alerts/{alert_id}/send", data={"csrf_token": client.csrf,
                                                              "confirm_word": "send it"})
    assert refused.status_code == 422
    assert alert_row(settings, alert_id).state == "draft"
    assert Queue("alerts", connection=redis_lib.Redis.from_url(redis_url)).count == 0
    sent = client.post(f"/alerts/{alert_id}/send", data={"csrf_token": client.csrf,
                                                           "confirm_word": "SEND"})
    assert sent.status_code == 302 and sent.location.endswith(f"/alerts/{alert_id}")
    assert alert_row(settings, alert_id).state == "sending"
    assert Queue("alerts", connection=redis_lib.Redis.from_url(redis_url)).job_ids == [f"fan-out-{alert_id}"]
    again = client.post(f"/alerts/{alert_id}/send", data={"csrf_token": client.csrf,
                                                            "confirm_word": "SEND"})
    assert again.status_code == 302  # already sent: back to its page, nothing queued twice


def test_an_exercise_needs_no_typed_word(signed_in, residents, settings):
    client = signed_in("dispatcher")
    alert_id = compose(client, status="Exercise")
    assert client.post(f"/alerts/{alert_id}/send", data={"csrf_token": client.csrf}).status_code == 302
    assert alert_row(settings, alert_id).state == "sending"


def two_dispatchers(settings, user):
    """Ann and Bob signed in (each with their code) on an app whose threshold is 1 resident."""
    app = create_app(dataclasses.replace(settings, approval_threshold=1))
    app.config["TESTING"] = True
    clients = []
    for name in ("ann", "bob"):
        client = page_client(app)
        sign_in_with_code(client, user(name, "dispatcher"))
        client.csrf = csrf_token(client.get("/alerts").get_data(as_text=True))
        clients.append(client)
    return clients


def test_a_large_alert_needs_a_second_dispatcher(settings, residents, user):
    author, second = two_dispatchers(settings, user)
    alert_id = compose(author)  # reaches 2 residents > 1
    page = author.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    assert 'data-testid="approval-needed"' in page and 'data-testid="send-button"' not in page
    refused = author.post(f"/alerts/{alert_id}/send", data={"csrf_token": author.csrf,
                                                             "confirm_word": "SEND"})
    assert refused.status_code == 409 and alert_row(settings, alert_id).state == "draft"
    own = author.post(f"/alerts/{alert_id}/approve", data={"csrf_token": author.csrf})
    assert own.status_code == 403 and alert_row(settings, alert_id).approved_by is None
    assert 'data-testid="approve-button"' in second.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    assert second.post(f"/alerts/{alert_id}/approve",
                       data={"csrf_token": second.csrf}).status_code == 302
    assert alert_row(settings, alert_id).approved_by == "user:bob"
    sent = author.post(f"/alerts/{alert_id}/send", data={"csrf_token": author.csrf,
                                                          "confirm_word": "SEND"})
    assert sent.status_code == 302 and alert_row(settings, alert_id).state == "sending"


def test_the_alert_page_polls_the_same_numbers_as_the_api(signed_in, settings, auth, client):
    with session_scope(settings.database_url) as session:
        alert = make_alert(session, state="sent", channels=["sms"])
        for i, status in enumerate(("delivered", "delivered", "failed")):
            sub = make_subscriber(session, phone=f"+1617555{i:04d}")
            make_delivery(session, alert, sub, status=status,
                          error_code="30003" if status == "failed" else None)
        alert_id = alert.id
    browser = signed_in("auditor")
    live = browser.get(f"/alerts/{alert_id}/stats.json").get_json()
    api = client.get(f"/api/v1/alerts/{alert_id}", headers=auth("auditor")).get_json()
    assert live["stats"] == api["stats"]
    assert live["progress"] == {"total": 3, "handed_over": 3, "percent": 100}
    html = browser.get(f"/alerts/{alert_id}?status=failed").get_data(as_text=True)
    assert 'data-testid="count-sms-delivered">2<' in html
    assert "30003" in html and "+16175550002" not in html  # numbers are masked
    assert 'data-testid="cancel-button"' not in html  # auditors do not cancel
    csv = browser.get(f"/alerts/{alert_id}/deliveries.csv?status=delivered").get_data(as_text=True)
    assert csv.count("\n") == 3 and "failed" not in csv


def test_cancel_needs_the_csrf_token_then_stops_the_alert(signed_in, settings):
    with session_scope(settings.database_url) as session:
        alert_id = make_alert(session, state="sent").id
    client = signed_in("dispatcher")
    assert client.post(f"/alerts/{alert_id}/cancel").status_code == 400
    assert alert_row(settings, alert_id).state == "sent"
    # A live alert is stopped only once confirmed: without it, the question is asked.
    asked = client.post(f"/alerts/{alert_id}/cancel", data={"csrf_token": client.csrf})
    assert asked.status_code == 303 and asked.location.endswith(f"/alerts/{alert_id}/cancel")
    assert alert_row(settings, alert_id).state == "sent"
    done = client.post(f"/alerts/{alert_id}/cancel",
                       data={"csrf_token": client.csrf, "confirmed": "1"})
    assert done.status_code == 302 and done.location.endswith(f"/alerts/{alert_id}#follow-up")
    assert alert_row(settings, alert_id).state == "cancelled"


def test_an_all_clear_references_the_alert_and_goes_out(signed_in, settings, redis_url):
    with session_scope(settings.database_url) as session:
        alert_id = make_alert(session, state="sent", status="Exercise",
                              messages={"en": "Leak.", "es": "Fuga."}).id
    client = signed_in("dispatcher")
    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    # Pre-filled with an all-clear in each language, never with the alert's own words.
    assert ">Leak.</textarea>" not in page and ">Fuga.</textarea>" not in page
    assert ">The danger has passed." in page and ">El peligro ha pasado." in page
    response = client.post(f"/alerts/{alert_id}/follow-up", data={
        "csrf_token": client.csrf, "msg_type": "Cancel", "followup_en": "All clear.",
        "followup_es": "Fin de la alerta."})
    assert response.status_code == 302
    with session_scope(settings.database_url, readonly=True) as session:
        new = session.scalar(select(Alert).where(Alert.references_alert_id == alert_id))
        assert (new.msg_type, new.state, new.status) == ("Cancel", "sending", "Exercise")
        assert new.messages == {"en": "All clear.", "es": "Fin de la alerta."}
    assert response.location.endswith(f"/alerts/{new.id}")
    assert alert_row(settings, alert_id).state == "cancelled"


def test_the_sms_counter_renders_the_exact_text_and_its_cost(signed_in):
    client = signed_in("dispatcher")
    info = client.post("/alerts/sms-info.json", headers={"X-CSRFToken": client.csrf},
                       json={"text": "Évacuez maintenant", "language": "fr", "status": "Test"}).get_json()
    assert info["text"].endswith("Tocsin demo: Évacuez maintenant")
    assert info["encoding"] == "GSM-7" and info["segments"] == 1
    long = client.post("/alerts/sms-info.json", headers={"X-CSRFToken": client.csrf},
                       json={"text": "“quoted” " * 10, "language": "en"}).get_json()
    assert long["encoding"] == "UCS-2" and long["segments"] == 2


def test_an_unknown_alert_is_a_404_page(signed_in):
    response = signed_in("dispatcher").get("/alerts/999")
    assert response.status_code == 404 and "<h1>" in response.get_data(as_text=True)


def test_a_page_send_meets_the_domain_rule_an_alert_to_everyone_waits_for_approval(
        settings, residents, user, token, redis_url):
    app = create_app(dataclasses.replace(settings, approval_threshold=10**9))
    app.config["TESTING"] = True
    author = page_client(app)
    sign_in_with_code(author, user("ann", "dispatcher"))
    author.csrf = csrf_token(author.get("/alerts").get_data(as_text=True))
    alert_id = compose(author, area_geojson=None, everyone="1")
    page = author.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    assert 'data-state="awaiting-approval"' in page and "awaiting approval" in page.lower()
    assert "other than its author (user:ann)" in page
    assert 'data-testid="approval-reason-everyone"' in page
    assert 'data-testid="send-button"' not in page and 'data-testid="approve-button"' not in page
    refused = author.post(f"/alerts/{alert_id}/send", data={"csrf_token": author.csrf,
                                                             "confirm_word": "SEND"})
    assert refused.status_code == 409 and alert_row(settings, alert_id).state == "draft"
    assert Queue("alerts", connection=redis_lib.Redis.from_url(redis_url)).count == 0
    # A second person's approval through the API counts on the pages: one rule, one record.
    second = {"Authorization": f"Bearer {token('dispatcher', 'supervisor')}"}
    assert app.test_client().post(f"/api/v1/alerts/{alert_id}/approve",
                                  headers=second).status_code == 200
    page = author.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    assert 'data-state="draft"' in page and "approved by token:supervisor" in page
    sent = author.post(f"/alerts/{alert_id}/send", data={"csrf_token": author.csrf,
                                                          "confirm_word": "SEND"})
    assert sent.status_code == 302 and alert_row(settings, alert_id).state == "sending"


def test_changing_an_approved_draft_on_the_compose_page_needs_a_new_approval(
        settings, residents, user):
    author, second = two_dispatchers(settings, user)
    first = compose(author)
    assert second.post(f"/alerts/{first}/approve", data={"csrf_token": second.csrf}).status_code == 302
    assert 'data-testid="edit-draft"' in author.get(f"/alerts/{first}/preview").get_data(as_text=True)
    author.get(f"/alerts/new?from={first}")
    changed = compose(author, replaces=str(first), text_0="Boil all tap water for a minute.")
    assert changed != first and alert_row(settings, first).state == "cancelled"
    new = alert_row(settings, changed)
    assert new.approved_by is None and new.messages["en"] == "Boil all tap water for a minute."
    page = author.get(f"/alerts/{changed}/preview").get_data(as_text=True)
    assert 'data-state="awaiting-approval"' in page
    refused = author.post(f"/alerts/{changed}/send", data={"csrf_token": author.csrf,
                                                            "confirm_word": "SEND"})
    assert refused.status_code == 409 and alert_row(settings, changed).state == "draft"


def test_a_cancelled_alert_gets_its_follow_up_and_a_repeat_of_its_text_is_refused(
        signed_in, settings, redis_url):
    with session_scope(settings.database_url) as session:
        alert_id = make_alert(session, state="cancelled", status="Exercise", sent_at=NOW,
                              cancelled_at=NOW, messages={"en": "Leak."}).id
    client = signed_in("dispatcher")
    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert 'data-testid="follow-up-send"' in page and 'data-testid="cancel-button"' not in page
    repeat = client.post(f"/alerts/{alert_id}/follow-up", data={
        "csrf_token": client.csrf, "msg_type": "Cancel", "followup_en": " LEAK. "})
    assert repeat.status_code == 302
    assert "same as the original" in client.get(repeat.location).get_data(as_text=True)
    with session_scope(settings.database_url, readonly=True) as session:
        assert session.scalar(select(Alert).where(Alert.references_alert_id == alert_id)) is None
    response = client.post(f"/alerts/{alert_id}/follow-up", data={
        "csrf_token": client.csrf, "msg_type": "Cancel", "followup_en": "All clear."})
    with session_scope(settings.database_url, readonly=True) as session:
        new = session.scalar(select(Alert).where(Alert.references_alert_id == alert_id))
        assert (new.state, new.messages) == ("sending", {"en": "All clear."})
    assert response.location.endswith(f"/alerts/{new.id}")
    # The follow-up of a Severe alert keeps its severity, so its lane: residents hear it as fast.
    assert Queue("emergency-alerts", connection=redis_lib.Redis.from_url(redis_url)).job_ids == [f"fan-out-{new.id}"]

"""POST /api/v1/translate through a LibreTranslate stand-in on 127.0.0.1 (DESIGN §11)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from admin_ui import create_app
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import AuditEvent
from tests.support.fixtures import TRANSLATE_API_KEY
from tests.support.translate_standin import translated, unreachable_url

URL = "/api/v1/translate"
BODY = {"text": "Chemical leak near Main St. Stay indoors.", "source": "en",
        "targets": ["es", "zh-Hant", "zh-Hans"]}


@pytest.fixture
def app(translate_env):
    app = create_app(Settings.from_env(translate_env))
    app.config["TESTING"] = True
    return app


def test_it_translates_into_each_target_with_one_request_each(client, auth, translate_standin):
    response = client.post(URL, json=BODY, headers=auth("dispatcher"))
    assert response.status_code == 200, response.get_json()
    text = BODY["text"]
    assert response.get_json() == {"translations": {
        "es": {"text": translated(text, "es"), "machine": True},
        "zh-Hant": {"text": translated(text, "zt"), "machine": True},
        "zh-Hans": {"text": translated(text, "zh"), "machine": True}}}
    bodies = sorted(translate_standin.bodies(), key=lambda b: b["target"])
    assert bodies == [{"q": text, "source": "en", "target": target, "format": "text",
                       "api_key": TRANSLATE_API_KEY} for target in ("es", "zh", "zt")]
    assert {r["path"] for r in translate_standin.requests} == {"/translate"}
    assert {r["content_type"] for r in translate_standin.requests} == {"application/json"}


def test_an_admin_may_translate_and_the_request_is_audited(client, auth, settings):
    response = client.post(URL, json={"text": "Boil water.", "targets": ["fr"]},
                           headers=auth("admin"))
    assert response.status_code == 200
    assert response.get_json()["translations"]["fr"]["text"] == translated("Boil water.", "fr")
    with session_scope(settings.database_url) as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "translation.request")).one()
        assert event.details["source"] == "en" and event.details["targets"] == ["fr"]
        assert event.details["characters"] == len("Boil water.")
        assert "Boil water" not in str(event.details)  # the text itself stays out of the log


def test_an_auditor_may_not_translate(client, auth, translate_standin):
    response = client.post(URL, json=BODY, headers=auth("auditor"))
    assert response.status_code == 403
    assert translate_standin.requests == []


def test_no_token_is_refused(client):
    assert client.post(URL, json=BODY).status_code == 401


BAD = [
    ({**BODY, "targets": ["xx"]}, "targets"),
    ({**BODY, "targets": ["tlh"]}, "targets"),
    ({**BODY, "targets": []}, "targets"),
    ({**BODY, "targets": ["en"]}, "targets"),
    ({**BODY, "targets": "es"}, "targets"),
    ({**BODY, "text": "   "}, "text"),
    ({**BODY, "text": "x" * 5001}, "text"),
    ({**BODY, "text": "bell\x07"}, "text"),
    ({**BODY, "source": "klingon"}, "source"),
    ({"targets": ["es"]}, "text"),
    ({**BODY, "tone": "formal"}, "tone"),
]


@pytest.mark.parametrize("body,field", BAD)
def test_bad_input_is_a_422_naming_the_field(client, auth, translate_standin, body, field):
    response = client.post(URL, json=body, headers=auth("dispatcher"))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert translate_standin.requests == []


def test_it_is_a_503_when_translate_url_is_unset(env, auth):
    app = create_app(Settings.from_env(env))
    response = app.test_client().post(URL, json=BODY, headers=auth("dispatcher"))
    assert response.status_code == 503
    assert "TRANSLATE_URL" in response.get_json()["error"]


def test_it_is_a_503_when_the_server_cannot_be_reached(env, auth):
    app = create_app(Settings.from_env({**env, "TRANSLATE_URL": unreachable_url()}))
    response = app.test_client().post(URL, json=BODY, headers=auth("dispatcher"))
    assert response.status_code == 503
    assert "cannot be reached" in response.get_json()["error"]


@pytest.mark.parametrize("status,words", [(500, "failed (HTTP 500"),
                                          (403, "TRANSLATE_API_KEY"),
                                          (429, "too busy")])
def test_it_is_a_503_saying_what_the_server_answered(client, auth, translate_standin, status,
                                                     words):
    translate_standin.failure = (status, "model not loaded")
    response = client.post(URL, json=BODY, headers=auth("dispatcher"))
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert words in error and "model not loaded" in error


def test_a_wrong_api_key_is_the_servers_403_told_plainly(env, auth, translate_standin):
    app = create_app(Settings.from_env({**env, "TRANSLATE_URL": translate_standin.url,
                                        "TRANSLATE_API_KEY": "not-the-key"}))
    response = app.test_client().post(URL, json=BODY, headers=auth("dispatcher"))
    assert response.status_code == 503
    assert "Invalid API key" in response.get_json()["error"]
    assert "not-the-key" not in response.get_json()["error"]


def test_a_server_that_is_not_libretranslate_is_a_503(env, auth):
    from tests.support.http_receiver import HttpReceiver

    other = HttpReceiver().start()  # answers 200 {} to everything
    try:
        app = create_app(Settings.from_env({**env, "TRANSLATE_URL": other.base}))
        response = app.test_client().post(URL, json=BODY, headers=auth("dispatcher"))
    finally:
        other.stop()
    assert response.status_code == 503
    assert "translatedText" in response.get_json()["error"]


def test_the_answers_match_the_openapi_document(client, auth, translate_standin):
    from tests.admin_ui.api.test_alerts import ALERT
    from tests.admin_ui.api.test_openapi import check, check_answer

    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/translate"]["post"]
    assert operation["security"] == [{"bearerAuth": ["admin", "dispatcher"]}]
    check(document, {"$ref": "#/components/schemas/TranslateInput"}, BODY)
    headers = auth("dispatcher")
    check_answer(document, "/api/v1/translate", "POST", client.post(URL, json=BODY,
                                                                    headers=headers))
    check_answer(document, "/api/v1/translate", "POST",
                 client.post(URL, json={**BODY, "targets": []}, headers=headers))
    translate_standin.failure = (500, "down")
    check_answer(document, "/api/v1/translate", "POST", client.post(URL, json=BODY,
                                                                    headers=headers))

    alert = client.post("/api/v1/alerts", json={**ALERT, "machine_translated": ["es"]},
                        headers=headers)
    check_answer(document, "/api/v1/alerts", "POST", alert)
    send = f"/api/v1/alerts/{alert.get_json()['id']}/send"
    check(document, {"$ref": "#/components/schemas/SendInput"},
          {"accept_machine_translation": True})
    check_answer(document, "/api/v1/alerts/{alert_id}/send", "POST",
                 client.post(send, headers=headers))
    check_answer(document, "/api/v1/alerts/{alert_id}/send", "POST",
                 client.post(send, json={"accept_machine_translation": True}, headers=headers))

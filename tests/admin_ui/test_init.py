"""The app factory: secure defaults, JSON-only errors for machines, masked phone numbers in logs."""
from __future__ import annotations

import dataclasses
import logging

from admin_ui import create_app


def test_session_cookies_are_secure_behind_an_https_public_url(settings):
    assert settings.public_url.startswith("https://")
    assert create_app(settings).config["SESSION_COOKIE_SECURE"] is True
    plain = dataclasses.replace(settings, public_url="http://127.0.0.1:5000")
    assert create_app(plain).config["SESSION_COOKIE_SECURE"] is False


def test_bodies_are_limited(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024


def test_two_apps_do_not_share_settings(settings):
    other = dataclasses.replace(settings, public_url="https://other.example.org")
    assert create_app(settings).extensions["tocsin.settings"].public_url != \
        create_app(other).extensions["tocsin.settings"].public_url


def test_an_unexpected_error_is_a_json_500_without_a_traceback(settings, caplog):
    app = create_app(settings)

    @app.get("/api/v1/explode")
    def explode():
        raise RuntimeError("secret internals at line 42")

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/api/v1/explode")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error; the details are in the server log"}
    assert b"secret internals" not in response.data and b"Traceback" not in response.data
    assert "secret internals" in caplog.text


def test_a_failed_request_writes_nothing(settings, client, auth):
    headers = auth("admin")
    client.post("/api/v1/subscribers", json={"phone": "+16175550100"}, headers=headers)
    response = client.post("/api/v1/subscribers/import", json=[{"phone": "+16175550111"}, 5],
                           headers={**headers})
    assert response.status_code == 200
    # A 409 on create rolls back the request's transaction: no half-made subscriber or event.
    client.post("/api/v1/subscribers", json={"phone": "+16175550100", "zones": ["a"]},
                headers=headers)
    listing = client.get("/api/v1/subscribers", headers=headers).get_json()
    assert listing["total"] == 2
    assert client.get("/api/v1/audit", headers=headers).get_json()["total"] == 2


def test_phone_numbers_are_masked_in_logs(app, caplog):
    with caplog.at_level(logging.INFO):
        app.logger.info("texted %s and %s", "+16175550100", "%2B16175550199")
        logging.getLogger("werkzeug").info('"GET /api/v1/sandbox/outbox?to=%2B16175550100 HTTP/1.1" 200')
    assert "6175550100" not in caplog.text
    assert "16175550199" not in caplog.text
    assert "+1617*****00" in caplog.text


def test_pages_outside_the_api_keep_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert not response.is_json

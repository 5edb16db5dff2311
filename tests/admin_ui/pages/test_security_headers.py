"""Security headers on pages, the API, webhooks and static files; HSTS only with https."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from admin_ui import create_app
from admin_ui.security_headers import content_security_policy
from notifier.config import Settings
from tests.admin_ui.pages.conftest import page_client, sign_in


def _policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in header.split("; ")}


def _assert_page_headers(response) -> None:
    policy = _policy(response)
    assert policy["script-src"] == "'self'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def _http_app(env):
    return create_app(Settings.from_env({**env, "PUBLIC_URL": "http://tocsin.example.org"}))


def test_the_sign_in_page_sends_the_security_headers(client):
    response = client.get("/login")
    assert response.status_code == 200
    _assert_page_headers(response)


def test_a_signed_in_page_sends_the_security_headers(signed_in):
    response = signed_in("dispatcher").get("/alerts/new")
    assert response.status_code == 200
    _assert_page_headers(response)


@pytest.mark.parametrize("method, path", [("get", "/api/v1/alerts"), ("get", "/api/v1/nowhere"),
                                          ("post", "/webhooks/twilio/status"),
                                          ("get", "/healthz"),
                                          ("get", "/static/js/map.js")])
def test_machine_responses_are_never_sniffed(client, auth, method, path):
    response = getattr(client, method)(path, headers=auth("auditor"))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert _policy(response)["frame-ancestors"] == "'none'"


def test_hsts_is_sent_when_the_public_url_is_https(client):
    assert client.get("/login").headers["Strict-Transport-Security"].startswith("max-age=")


def test_hsts_is_not_sent_when_the_public_url_is_http(env):
    client = _http_app(env).test_client()
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200  # and no redirect to https: TLS ends at the proxy
    assert "Strict-Transport-Security" not in response.headers
    _assert_page_headers(response)


def test_the_session_cookie_keeps_its_secure_flag_from_the_public_url(app, env, user):
    name = user("dana", "dispatcher")
    secure = page_client(app)
    sign_in(secure, name)
    assert secure.get_cookie("session").secure
    plain = _http_app(env).test_client()
    plain.environ_base["HTTP_REFERER"] = "http://localhost/"
    sign_in(plain, name)
    cookie = plain.get_cookie("session")
    assert cookie is not None and not cookie.secure and cookie.http_only
    assert cookie.same_site == "Lax"


def test_the_map_tiles_host_is_allowed_for_images(settings, env):
    assert "https://tile.openstreetmap.org" in content_security_policy(settings)["img-src"]
    carto = Settings.from_env({**env, "MAP_TILE_URL":
                               "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}.png"})
    assert "https://*.basemaps.cartocdn.com" in content_security_policy(carto)["img-src"]
    local = Settings.from_env({**env, "MAP_TILE_URL": "/tiles/{z}/{x}/{y}.png"})
    assert content_security_policy(local)["img-src"] == "'self' data:"


def test_no_template_carries_an_inline_script_handler_or_style(app):
    root = Path(app.root_path) / "templates"
    for path in root.rglob("*.html"):
        html = path.read_text()
        for script in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in script or 'type="application/json"' in script, (path, script)
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert not re.search(r"\sstyle\s*=|<style\b", html), path
        assert "javascript:" not in html, path

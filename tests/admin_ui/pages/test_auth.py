"""Sign-in, sign-out, throttling, CSRF and the guard on every page route."""
from __future__ import annotations

import re

from sqlalchemy import select

from notifier.db import session_scope
from notifier.models import AuditEvent, User
from tests.admin_ui.pages.conftest import (PASSWORD, csrf_token, second_step, sign_in,
                                           sign_in_with_code)


def test_the_root_sends_a_signed_out_visitor_to_the_sign_in_form(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.location.endswith("/login")


def test_the_sign_in_form_has_labelled_username_and_password_fields(client):
    html = client.get("/login").get_data(as_text=True)
    assert re.search(r'<label for="username">', html) and 'id="username"' in html
    assert re.search(r'<label for="password">', html) and 'type="password"' in html


def test_a_dispatcher_signs_in_and_lands_on_the_alert_list(client, user):
    response = sign_in_with_code(client, user("dana", "dispatcher"))
    assert response.status_code == 302 and response.location.endswith("/alerts")
    assert client.get("/alerts").status_code == 200
    assert client.get("/").location.endswith("/alerts")


def test_an_admin_lands_on_the_dashboard(client, user):
    response = sign_in_with_code(client, user("ada", "admin"))
    assert response.location.endswith("/dashboard")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert 'data-testid="workers"' in page.get_data(as_text=True)


def test_a_wrong_password_is_refused_and_recorded_in_the_audit_log(client, user, settings):
    response = sign_in(client, user("dana", "dispatcher"), "not the password")
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)
    assert client.get("/alerts").status_code == 302
    with session_scope(settings.database_url, readonly=True) as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert actions == ["user.login_failed"]


def test_sign_in_is_throttled_after_five_failures_even_with_the_right_password(client, user):
    name = user("dana", "dispatcher")
    for _ in range(5):
        assert sign_in(client, name, "wrong password").status_code == 401
    response = sign_in(client, name, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)
    assert client.get("/alerts").status_code == 302


def test_a_successful_sign_in_clears_earlier_failures(client, user):
    name = user("dana", "dispatcher")
    for _ in range(4):
        sign_in(client, name, "wrong password")
    assert sign_in_with_code(client, name).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/alerts").get_data(as_text=True))})
    for _ in range(4):
        sign_in(client, name, "wrong password")
    assert sign_in_with_code(client, name).status_code == 302


def test_a_form_post_without_its_csrf_token_is_refused(client, user):
    name = user("dana", "dispatcher")
    response = client.post("/login", data={"username": name, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/alerts").status_code == 302


def test_signed_in_posts_without_a_csrf_token_are_refused(signed_in):
    client = signed_in("dispatcher")
    assert client.post("/logout").status_code == 400
    assert client.post("/alerts/sms-info.json", json={"text": "hi"}).status_code == 400
    assert client.get("/alerts").status_code == 200  # still signed in


def test_api_posts_need_no_csrf_token(client, auth):
    response = client.post("/api/v1/alerts/preview", headers=auth("dispatcher"), json={})
    assert response.status_code == 422  # validation, not a CSRF refusal


def test_signing_out_ends_the_session(signed_in):
    client = signed_in("dispatcher")
    assert client.post("/logout", data={"csrf_token": client.csrf}).status_code == 302
    assert client.get("/alerts").location.startswith("/login")


def test_a_disabled_user_is_signed_out_at_the_next_request(signed_in, settings):
    client = signed_in("dispatcher", "dana")
    with session_scope(settings.database_url) as session:
        session.scalar(select(User).where(User.name == "dana")).active = False
    assert client.get("/alerts").status_code == 302


def test_after_sign_in_the_visitor_returns_to_the_page_asked_for_but_never_off_site(client, user):
    name = user("dana", "dispatcher")
    first = client.get("/alerts/new")
    assert first.status_code == 302 and "next=" in first.location
    token = csrf_token(client.get(first.location).get_data(as_text=True))
    response = second_step(client, name, client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token,
                        "next": "/alerts/new"}))
    assert response.location.endswith("/alerts/new")
    token = csrf_token(client.get("/alerts").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = second_step(client, name, client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token,
                        "next": "//evil.example/x"}))
    assert response.location.endswith("/alerts")


def _page_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("auth", "alerts", "dashboard"):
            yield rule


def test_every_page_route_sends_a_signed_out_visitor_to_sign_in(app, client):
    public = {"auth.root", "auth.login"}
    checked = 0
    for rule in _page_rules(app):
        if rule.endpoint in public:
            continue
        path = rule.rule.replace("<id:alert_id>", "1")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            data = {"csrf_token": csrf_token(client.get("/login").get_data(as_text=True))}
            response = client.open(path, method=method, data=data if method == "POST" else None)
            if path.endswith(".json"):
                assert response.status_code == 401, (method, path)
            else:
                assert response.status_code == 302, (method, path)
                assert "/login" in response.location, (method, path)
            checked += 1
    assert checked >= 10


def test_roles_are_enforced_on_pages(signed_in):
    auditor = signed_in("auditor")
    assert auditor.get("/alerts").status_code == 200
    assert auditor.get("/alerts/new").status_code == 403
    assert auditor.post("/alerts/new", data={"csrf_token": auditor.csrf}).status_code == 403
    assert auditor.get("/dashboard").status_code == 403
    dispatcher = signed_in("dispatcher")
    assert dispatcher.get("/alerts/new").status_code == 200
    assert dispatcher.get("/dashboard").status_code == 403


def test_the_pages_speak_spanish_when_asked(signed_in):
    client = signed_in("dispatcher")
    html = client.get("/alerts/new?lang=es").get_data(as_text=True)
    assert 'lang="es"' in html and "Nueva alerta" in html
    assert "Nueva alerta" in client.get("/alerts/new").get_data(as_text=True)  # kept in the session

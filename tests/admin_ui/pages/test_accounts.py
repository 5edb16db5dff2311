"""Admins manage accounts and API tokens; everyone may turn on their own second factor."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from notifier import accounts, totp
from notifier.db import session_scope
from notifier.models import ApiToken, AuditEvent, User
from tests.admin_ui.pages.conftest import page_client, sign_in, sign_in_with_code

ADMIN_PAGES = [("get", "/admin/users"), ("post", "/admin/users"), ("get", "/admin/tokens"),
               ("post", "/admin/tokens"), ("post", "/admin/users/1/disable"),
               ("post", "/admin/users/1/enable"), ("post", "/admin/users/1/reset-2fa"),
               ("post", "/admin/tokens/1/revoke")]


def _events(settings, action: str) -> list[AuditEvent]:
    with session_scope(settings.database_url, readonly=True) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _user(settings, name: str) -> User:
    with session_scope(settings.database_url, readonly=True) as session:
        return session.scalar(select(User).where(User.name == name))


@pytest.mark.parametrize("role", ["dispatcher", "auditor"])
def test_only_admins_manage_accounts(signed_in, role):
    client = signed_in(role)
    for method, path in ADMIN_PAGES:
        response = getattr(client, method)(path, data={"csrf_token": client.csrf})
        assert response.status_code == 403, (method, path)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert "/login" in client.get("/admin/users").location
    assert "/login" in client.get("/account/two-factor").location


def test_the_user_list_shows_role_activity_and_second_factor(signed_in, user):
    admin = signed_in("admin", "ada")
    user("dana", "dispatcher")
    html = admin.get("/admin/users").get_data(as_text=True)
    row = re.search(r'<tr data-testid="user-dana">(.*?)</tr>', html, re.S).group(1)
    assert "dispatcher" in row and "yes" in row and "off" in row
    assert 'data-testid="disable-dana"' in html
    assert 'data-testid="disable-ada"' not in html  # not oneself


def test_an_admin_creates_a_user_who_can_then_sign_in(app, signed_in, settings):
    admin = signed_in("admin", "ada")
    response = admin.post("/admin/users", data={"name": "dana", "role": "dispatcher",
                                                "password": "long enough", "csrf_token": admin.csrf})
    assert response.status_code == 302
    assert "Account dana created" in admin.get("/admin/users").get_data(as_text=True)
    signed = sign_in_with_code(page_client(app), "dana", "long enough")
    assert signed.status_code == 302 and signed.location.endswith("/alerts")
    [event] = _events(settings, "user.create")
    assert event.actor == "user:ada" and event.object == "user:dana"
    assert event.details == {"role": "dispatcher"}


def test_a_short_password_or_a_taken_name_comes_back_with_field_messages(signed_in, user):
    admin = signed_in("admin", "ada")
    short = admin.post("/admin/users", data={"name": "dana", "role": "dispatcher",
                                             "password": "short", "csrf_token": admin.csrf})
    assert short.status_code == 422
    html = short.get_data(as_text=True)
    assert 'data-testid="errors-password"' in html and "at least 8 characters" in html
    assert 'value="dana"' in html
    user("dana", "dispatcher")
    taken = admin.post("/admin/users", data={"name": "dana", "role": "auditor",
                                             "password": "long enough", "csrf_token": admin.csrf})
    assert taken.status_code == 409
    assert "already exists" in taken.get_data(as_text=True)
    bad_role = admin.post("/admin/users", data={"name": "eve", "role": "root",
                                                "password": "long enough", "csrf_token": admin.csrf})
    assert bad_role.status_code == 422 and 'data-testid="errors-role"' in bad_role.get_data(as_text=True)


def test_field_messages_are_translated(signed_in):
    admin = signed_in("admin", "ada")
    admin.get("/admin/users?lang=es")
    short = admin.post("/admin/users", data={"name": "dana", "role": "dispatcher",
                                             "password": "short", "csrf_token": admin.csrf})
    assert "La contraseña debe tener al menos 8 caracteres." in short.get_data(as_text=True)


def test_disabling_a_user_ends_their_session_and_enabling_lets_them_back(signed_in, settings):
    admin = signed_in("admin", "ada")
    dana = signed_in("dispatcher", "dana")
    dana_id = _user(settings, "dana").id
    response = admin.post(f"/admin/users/{dana_id}/disable", data={"csrf_token": admin.csrf})
    assert response.status_code == 302
    assert dana.get("/alerts").status_code == 302
    assert not _user(settings, "dana").active
    admin.post(f"/admin/users/{dana_id}/enable", data={"csrf_token": admin.csrf})
    assert _user(settings, "dana").active
    assert [e.action for e in _events(settings, "user.disable") + _events(settings, "user.enable")] \
        == ["user.disable", "user.enable"]


def test_an_admin_cannot_disable_their_own_account(signed_in, settings):
    admin = signed_in("admin", "ada")
    admin.post(f"/admin/users/{_user(settings, 'ada').id}/disable", data={"csrf_token": admin.csrf})
    assert _user(settings, "ada").active
    assert admin.get("/admin/users").status_code == 200


def test_an_unknown_user_is_a_404_page(signed_in):
    admin = signed_in("admin", "ada")
    response = admin.post("/admin/users/999/disable", data={"csrf_token": admin.csrf})
    assert response.status_code == 404 and "<html" in response.get_data(as_text=True)


def test_resetting_the_second_factor_forgets_the_secret(signed_in, user, settings):
    admin = signed_in("admin", "ada")
    user("dana", "dispatcher")
    with session_scope(settings.database_url) as session:
        accounts.set_totp_secret(session, session.scalar(select(User).where(User.name == "dana")),
                                 totp.new_secret())
    dana_id = _user(settings, "dana").id
    assert 'data-testid="reset-2fa-dana"' in admin.get("/admin/users").get_data(as_text=True)
    admin.post(f"/admin/users/{dana_id}/reset-2fa", data={"csrf_token": admin.csrf})
    assert _user(settings, "dana").totp_secret is None
    assert [e.object for e in _events(settings, "user.totp_reset")] == ["user:dana"]


def test_a_new_token_is_shown_once_works_and_can_be_revoked(app, signed_in, settings):
    admin = signed_in("admin", "ada")
    response = admin.post("/admin/tokens", data={"name": "gis", "role": "auditor",
                                                 "csrf_token": admin.csrf})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    plaintext = re.search(r'value="(tcn_[^"]+)" size="52" data-testid="new-token"',
                          response.get_data(as_text=True)).group(1)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert api.get("/api/v1/audit", headers=headers).status_code == 200
    listing = admin.get("/admin/tokens").get_data(as_text=True)
    assert plaintext not in listing and "gis" in listing
    with session_scope(settings.database_url, readonly=True) as session:
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.name == "gis"))
    assert admin.post(f"/admin/tokens/{token_id}/revoke",
                      data={"csrf_token": admin.csrf}).status_code == 302
    assert api.get("/api/v1/audit", headers=headers).status_code == 401
    assert [e.object for e in _events(settings, "token.create")] == [f"token:{token_id}"]
    assert [e.object for e in _events(settings, "token.revoke")] == [f"token:{token_id}"]
    assert plaintext not in str(_events(settings, "token.create")[0].details)


def test_a_token_without_a_name_comes_back_with_its_error(signed_in):
    admin = signed_in("admin", "ada")
    response = admin.post("/admin/tokens", data={"name": "", "role": "auditor",
                                                 "csrf_token": admin.csrf})
    assert response.status_code == 422
    assert 'data-testid="errors-name"' in response.get_data(as_text=True)


def test_account_forms_need_their_csrf_token(signed_in):
    admin = signed_in("admin", "ada")
    response = admin.post("/admin/users", data={"name": "dana", "role": "dispatcher",
                                                "password": "long enough"})
    assert response.status_code == 400
    assert admin.post("/admin/tokens", data={"name": "x", "role": "auditor"}).status_code == 400


def test_anyone_may_turn_on_their_own_second_factor_in_the_sandbox(app, signed_in, settings):
    client = signed_in("auditor", "aude")
    html = client.get("/account/two-factor").get_data(as_text=True)
    assert 'data-testid="two-factor-off"' in html
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    wrong = client.post("/account/two-factor", data={"code": "12", "csrf_token": client.csrf})
    assert wrong.status_code == 422
    code = totp.code_at(secret, datetime.now(timezone.utc))
    ok = client.post("/account/two-factor", data={"code": code, "csrf_token": client.csrf})
    assert ok.status_code == 302
    assert 'data-testid="two-factor-on"' in client.get("/account/two-factor").get_data(as_text=True)
    assert [e.actor for e in _events(settings, "user.totp_enrol")] == ["user:aude"]
    # From now on, even in the sandbox, signing in asks for a code.
    assert sign_in(page_client(app), "aude").location.endswith("/login/code")

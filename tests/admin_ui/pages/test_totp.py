"""Two-factor sign-in: required for admins and dispatchers unless SANDBOX=1, one use per code."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import segno
from sqlalchemy import select

from admin_ui import create_app
from notifier import accounts, totp
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import AuditEvent, User
from tests.admin_ui.pages.conftest import csrf_token, page_client, sign_in


@pytest.fixture
def settings(env) -> Settings:
    """Twilio and SMTP configured, SOCIAL_URLS empty (so `social` records), no SANDBOX."""
    live = Settings.from_env({**env, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
                              "TWILIO_AUTH_TOKEN": "0" * 32, "TWILIO_FROM_NUMBER": "+15005550006",
                              "SMTP_HOST": "127.0.0.1", "MAIL_FROM": "alerts@example.org"})
    assert live.is_sandboxed("social") and not live.sandbox_explicit
    return live


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _post_code(client, path: str, code: str):
    token = csrf_token(client.get(path).get_data(as_text=True))
    return client.post(path, data={"code": code, "csrf_token": token})


def _enrol(client, name: str) -> str:
    """Sign in with the password, set up the authenticator; return its secret."""
    response = sign_in(client, name)
    assert response.status_code == 302 and response.location.endswith("/login/enrol")
    html = client.get("/login/enrol").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    assert f"secret={secret}" in html  # the otpauth:// link, for a phone's authenticator
    response = _post_code(client, "/login/enrol", totp.code_at(secret, _now()))
    assert response.status_code == 302 and response.location.endswith(("/alerts", "/dashboard"))
    return secret


def _code_after_last_used(settings, name: str, steps: int = 0) -> str:
    """The code of the step `steps` after the one last accepted for `name` (0: that one)."""
    with session_scope(settings.database_url, readonly=True) as session:
        secret, step = session.execute(select(User.totp_secret, User.totp_last_step)
                                       .where(User.name == name)).one()
    return totp.code_at(secret, datetime.fromtimestamp((step + steps) * 30, timezone.utc))


def _actions(settings) -> list[str]:
    with session_scope(settings.database_url, readonly=True) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_dispatcher_without_a_second_factor_is_sent_to_set_one_up_not_signed_in(client, user):
    response = sign_in(client, user("dana", "dispatcher"))
    assert response.location.endswith("/login/enrol")
    assert client.get("/alerts").status_code == 302
    page = client.get("/login/enrol")
    assert page.headers["Cache-Control"] == "no-store"  # it shows the secret
    html = page.get_data(as_text=True)
    assert 'href="otpauth://totp/' in html and '<label for="code">' in html
    assert 'autocomplete="one-time-code"' in html


def test_setting_up_with_a_right_code_signs_in_and_is_audited(client, user, settings):
    _enrol(client, user("dana", "dispatcher"))
    assert client.get("/alerts").status_code == 200
    with session_scope(settings.database_url, readonly=True) as session:
        dana = session.scalar(select(User).where(User.name == "dana"))
        assert accounts.totp_enabled(dana)
        login = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.login"))
        assert login.details["second_factor"] is True
    assert _actions(settings) == ["user.totp_enrol", "user.login"]


def test_a_wrong_code_at_set_up_changes_nothing(client, user, settings):
    sign_in(client, user("dana", "dispatcher"))
    response = _post_code(client, "/login/enrol", "000000")
    assert response.status_code == 401
    assert 'data-testid="code-error"' in response.get_data(as_text=True)
    assert client.get("/alerts").status_code == 302
    with session_scope(settings.database_url, readonly=True) as session:
        assert session.scalar(select(User.totp_secret).where(User.name == "dana")) is None
    assert _actions(settings) == ["user.login_code_failed"]


def test_an_enrolled_user_needs_a_fresh_code_and_a_used_code_is_refused(app, client, user,
                                                                       settings):
    _enrol(client, user("ada", "admin"))
    other = page_client(app)
    assert sign_in(other, "ada").location.endswith("/login/code")
    assert other.get("/dashboard").status_code == 302  # a password alone is not enough
    # The step of the set-up code is used up: the next code (one step ahead) is accepted.
    assert _post_code(other, "/login/code", _code_after_last_used(settings, "ada")).status_code == 401
    code = _code_after_last_used(settings, "ada", 1)
    ok = _post_code(other, "/login/code", code)
    assert ok.status_code == 302 and ok.location.endswith("/dashboard")
    third = page_client(app)
    sign_in(third, "ada")
    replay = _post_code(third, "/login/code", code)
    assert replay.status_code == 401
    assert "already used" in replay.get_data(as_text=True)
    assert third.get("/dashboard").status_code == 302


def test_wrong_codes_are_throttled_like_passwords(app, client, user, settings):
    _enrol(client, user("dana", "dispatcher"))
    other = page_client(app)
    sign_in(other, "dana")
    for _ in range(5):
        assert _post_code(other, "/login/code", "000000").status_code == 401
    fresh = _code_after_last_used(settings, "dana", 1)
    blocked = _post_code(other, "/login/code", fresh)
    assert blocked.status_code == 429
    assert "Too many wrong codes" in blocked.get_data(as_text=True)
    assert other.get("/alerts").status_code == 302
    assert _actions(settings).count("user.login_code_failed") == 5


def test_an_auditor_signs_in_with_the_password_alone(client, user):
    response = sign_in(client, user("aude", "auditor"))
    assert response.status_code == 302 and response.location.endswith("/alerts")
    assert client.get("/alerts").status_code == 200


def test_the_code_step_without_a_password_first_goes_back_to_sign_in(client, user):
    user("dana", "dispatcher")
    assert client.get("/login/code").location.endswith("/login")
    assert client.get("/login/enrol").location.endswith("/login")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login/code", data={"code": "123456", "csrf_token": token})
    assert response.status_code == 302 and response.location.endswith("/login")


def test_a_disabled_user_halfway_through_cannot_finish(client, user, settings):
    sign_in(client, user("dana", "dispatcher"))
    with session_scope(settings.database_url) as session:
        session.scalar(select(User).where(User.name == "dana")).active = False
    assert client.get("/login/enrol").location.endswith("/login")


def test_the_code_form_needs_its_csrf_token(client, user):
    sign_in(client, user("dana", "dispatcher"))
    assert client.post("/login/enrol", data={"code": "123456"}).status_code == 400


def test_with_twilio_and_smtp_but_no_social_urls_admins_and_dispatchers_need_a_second_factor(
        client, app, user):
    for name, role, home in (("ada", "admin", "/dashboard"), ("dana", "dispatcher", "/alerts")):
        browser = page_client(app)
        assert sign_in(browser, user(name, role)).location.endswith("/login/enrol")
        assert browser.get(home).status_code == 302


def test_the_set_up_page_shows_the_link_a_qr_code_and_the_key_and_nothing_opens_before_a_code(
        client, user):
    sign_in(client, user("ada", "admin"))
    html = client.get("/login/enrol").get_data(as_text=True)
    uri = re.search(r'href="(otpauth://totp/[^"]+)"', html).group(1)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    assert f"secret={secret}" in uri.replace("&amp;", "&")
    svg = re.search(r"<svg [^>]*data-testid=\"totp-qr\".*?</svg>", html, re.S).group(0)
    assert "<path" in svg and "<script" not in svg.lower() and "<title>" in svg
    for path in ("/dashboard", "/alerts", "/alerts/new", "/admin/users", "/account/two-factor",
                 "/subscribers", "/audit", "/"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location, path
    assert _post_code(client, "/login/enrol", totp.code_at(secret, _now())).status_code == 302
    assert client.get("/dashboard").status_code == 200


def test_the_qr_code_holds_the_otpauth_link(client, user):
    sign_in(client, user("dana", "dispatcher"))
    html = client.get("/login/enrol").get_data(as_text=True)
    uri = re.search(r'href="(otpauth://totp/[^"]+)"', html).group(1).replace("&amp;", "&")
    svg = re.search(r"<svg [^>]*data-testid=\"totp-qr\".*?</svg>", html, re.S).group(0)
    drawn = segno.make(uri, error="m").svg_inline(scale=4, border=4, light="#fff")
    # The same modules as segno draws for that link (the title and attributes aside).
    assert re.search(r' d="([^"]+)"', svg.split("qrline")[1]).group(1) == \
        re.search(r' d="([^"]+)"', drawn.split("qrline")[1]).group(1)


class TestWithSandboxSet:
    @pytest.fixture
    def settings(self, sandbox_settings):
        return sandbox_settings

    def test_the_second_factor_is_optional(self, client, user):
        response = sign_in(client, user("dana", "dispatcher"))
        assert response.status_code == 302 and response.location.endswith("/alerts")
        assert client.get("/alerts").status_code == 200

    def test_a_session_begun_on_a_password_alone_ends_where_a_code_is_required(
            self, app, client, user, env):
        sign_in(client, user("ada", "admin"))
        assert client.get("/dashboard").status_code == 200
        live = page_client(create_app(Settings.from_env(env)))  # same secret key, no SANDBOX
        live.set_cookie("session", client.get_cookie("session").value)
        response = live.get("/dashboard")
        assert response.status_code == 302 and "/login" in response.location

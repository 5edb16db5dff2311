"""Sessions live server-side: sign-out, disabling, a new password or a 2FA reset end them."""
from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import func, select

from notifier import accounts, totp
from notifier.db import session_scope
from notifier.models import User, WebSession
from tests.admin_ui.pages.conftest import page_client, sign_in_with_code


def _copy_of(app, client):
    """Another browser holding a copy of `client`'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = page_client(app)
    thief.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return thief


def _user_id(settings, name: str) -> int:
    with session_scope(settings.database_url, readonly=True) as session:
        return session.scalar(select(User.id).where(User.name == name))


def test_a_copied_cookie_is_refused_after_sign_out(app, signed_in):
    client = signed_in("dispatcher", "dana")
    copy = _copy_of(app, client)
    assert copy.get("/alerts").status_code == 200  # the copy works while signed in
    assert client.post("/logout", data={"csrf_token": client.csrf}).status_code == 302
    response = copy.get("/alerts")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert copy.post("/alerts/sms-info.json", json={"text": "hi"}).status_code in (400, 401)


def test_signing_out_one_browser_keeps_the_users_other_sessions(signed_in, app, user):
    first = signed_in("dispatcher", "dana")
    second = page_client(app)
    assert sign_in_with_code(second, "dana").status_code == 302
    first.post("/logout", data={"csrf_token": first.csrf})
    assert second.get("/alerts").status_code == 200


def test_disabling_a_user_ends_their_other_sessions(app, signed_in, settings):
    dana = signed_in("dispatcher", "dana")
    admin = signed_in("admin", "ada")
    admin.post(f"/admin/users/{_user_id(settings, 'dana')}/disable",
               data={"csrf_token": admin.csrf})
    with session_scope(settings.database_url) as session:
        # Enabled again: the old cookie must still be refused, its session is gone for good.
        accounts.set_active(session, _user_id(settings, "dana"), True)
    assert dana.get("/alerts").status_code == 302
    assert admin.get("/admin/users").status_code == 200


def test_a_new_password_ends_the_users_sessions(signed_in, settings):
    dana = signed_in("dispatcher", "dana")
    with session_scope(settings.database_url) as session:
        accounts.set_password(session, "dana", "a brand new password")
    assert dana.get("/alerts").status_code == 302


def test_resetting_two_factor_ends_the_users_sessions(signed_in, settings):
    dana = signed_in("dispatcher", "dana")
    with session_scope(settings.database_url) as session:
        accounts.set_totp_secret(session, session.get(User, _user_id(settings, "dana")),
                                 totp.new_secret())
    assert dana.get("/alerts").status_code == 200  # turning 2FA on keeps one's own session
    admin = signed_in("admin", "ada")
    admin.post(f"/admin/users/{_user_id(settings, 'dana')}/reset-2fa",
               data={"csrf_token": admin.csrf})
    assert dana.get("/alerts").status_code == 302


def test_pages_that_only_read_write_no_session_row(signed_in, settings):
    client = signed_in("dispatcher", "dana")

    def rows():
        with session_scope(settings.database_url, readonly=True) as session:
            return list(session.execute(select(WebSession.id_hash, WebSession.expires_at)))

    before = rows()
    assert len(before) == 1
    for _ in range(3):
        assert client.get("/alerts").status_code == 200
    assert rows() == before


def test_the_cookie_holds_a_random_id_and_the_table_only_its_hash(signed_in, settings):
    client = signed_in("dispatcher", "dana")
    with session_scope(settings.database_url, readonly=True) as session:
        stored = session.scalar(select(WebSession.id_hash))
        assert session.scalar(select(func.count()).select_from(WebSession)) == 1
    app = client.application
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    data = serializer.loads(client.get_cookie("session").value)
    assert len(data["sid"]) >= 40 and data["sid"] != stored and stored not in str(data)

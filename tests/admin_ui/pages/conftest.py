"""Signed-in test clients: real users (argon2), real sessions, real CSRF tokens."""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from notifier import accounts, totp
from notifier.db import session_scope
from notifier.models import User

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"|name="csrf-token" content="([^"]+)"')
_SECRET = re.compile(r'data-testid="totp-secret">([A-Z2-7 ]+)<')


def csrf_token(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def page_client(app):
    """A test client that sends a same-site Referer, as browsers do: over HTTPS (PUBLIC_URL is
    https:// in the tests) Flask-WTF refuses a POST without one."""
    client = app.test_client()
    client.environ_base["HTTP_REFERER"] = "https://localhost/"
    return client


@pytest.fixture
def client(app):
    return page_client(app)


@pytest.fixture
def user(settings):
    """user(name, role) → creates the user (password PASSWORD) and returns its name."""
    def make(name: str, role: str) -> str:
        with session_scope(settings.database_url) as session:
            accounts.create_user(session, name, role, PASSWORD)
        return name
    return make


def sign_in(client, name: str, password: str = PASSWORD):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": name, "password": password,
                                       "csrf_token": token})


def post_code(client, path: str, code: str):
    token = csrf_token(client.get(path).get_data(as_text=True))
    return client.post(path, data={"code": code, "csrf_token": token})


def _unused_code(client, name: str) -> str:
    """A code of `name`'s authenticator for a time step after the last one accepted."""
    url = client.application.extensions["tocsin.settings"].database_url
    with session_scope(url, readonly=True) as session:
        secret, last = session.execute(select(User.totp_secret, User.totp_last_step)
                                       .where(User.name == name)).one()
    now = time.time()
    step = max(int(now // 30), -1 if last is None else last + 1)
    if step > now // 30 + totp.WINDOW:  # this many sign-ins within one step: wait for the next
        time.sleep(30 - now % 30 + 0.1)
        step = int(time.time() // 30)
    return totp.code_at(secret, datetime.fromtimestamp(step * 30, timezone.utc))


def sign_in_with_code(client, name: str, password: str = PASSWORD):
    """Sign in through every step asked for: the password, then (setting up an authenticator
    on the page first, when the account has none) a fresh code. Returns the last response."""
    return second_step(client, name, sign_in(client, name, password))


def second_step(client, name: str, response):
    """After the password step's `response`: give the code it asks for (if any), as above."""
    location = response.location or ""
    if response.status_code == 302 and location.endswith("/login/enrol"):
        html = client.get("/login/enrol").get_data(as_text=True)
        secret = _SECRET.search(html).group(1).replace(" ", "")
        return post_code(client, "/login/enrol", totp.code_at(secret, datetime.now(timezone.utc)))
    if response.status_code == 302 and location.endswith("/login/code"):
        return post_code(client, "/login/code", _unused_code(client, name))
    return response


@pytest.fixture
def signed_in(app, user):
    """signed_in(role, name=None) → a test client signed in (with a second factor where it is
    required) as a new user of that role; its `.csrf` holds a valid CSRF token for the session."""
    def make(role: str, name: str | None = None):
        client = page_client(app)
        response = sign_in_with_code(client, user(name or f"{role}-1", role))
        assert response.status_code == 302, response.get_data(as_text=True)
        client.csrf = csrf_token(client.get("/alerts").get_data(as_text=True))
        return client
    return make

"""Signed-in test clients: real users (argon2), real sessions, real CSRF tokens."""
from __future__ import annotations

import re

import pytest

from notifier import accounts
from notifier.db import session_scope

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"|name="csrf-token" content="([^"]+)"')


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


@pytest.fixture
def signed_in(app, user):
    """signed_in(role, name=None) → a test client signed in as a new user of that role; its
    `.csrf` attribute holds a valid CSRF token for the session."""
    def make(role: str, name: str | None = None):
        client = page_client(app)
        response = sign_in(client, user(name or f"{role}-1", role))
        assert response.status_code == 302, response.get_data(as_text=True)
        client.csrf = csrf_token(client.get("/alerts").get_data(as_text=True))
        return client
    return make

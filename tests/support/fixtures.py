"""Shared pytest fixtures for provider stand-ins (registered from tests/conftest.py)."""
from __future__ import annotations

import uuid

import pytest

from notifier.config import Settings
from tests.support.translate_standin import TranslateStandIn
from tests.support.twilio_standin import TwilioStandIn

TWILIO_FROM_NUMBER = "+15005550006"  # Twilio's magic test number: a valid sender


@pytest.fixture
def twilio_credentials() -> tuple[str, str]:
    """A fresh (account SID, auth token) pair in Twilio's formats."""
    return "AC" + uuid.uuid4().hex, uuid.uuid4().hex


@pytest.fixture
def twilio_standin(twilio_credentials):
    """A running Twilio stand-in for this test only: no scripts, no latency, nothing recorded."""
    sid, token = twilio_credentials
    with TwilioStandIn(sid, token) as standin:
        yield standin


@pytest.fixture
def twilio_env(env, twilio_standin, twilio_credentials) -> dict:
    """The `env` fixture plus Twilio credentials pointing at the stand-in.

    SMS unpaced (SMS_PER_SECOND=0) unless a test asks: the long code's default of one segment
    a second would make every test of more than a message or two slow."""
    sid, token = twilio_credentials
    return {**env, "TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": token,
            "TWILIO_FROM_NUMBER": TWILIO_FROM_NUMBER, "TWILIO_API_BASE_URL": twilio_standin.url,
            "SMS_PER_SECOND": "0"}


@pytest.fixture
def twilio_settings(twilio_env) -> Settings:
    return Settings.from_env(twilio_env)


def approve_as_second_person(client, database_url: str, alert_id: int) -> dict:
    """A second dispatcher's API token approves the draft (the two-person rule); returns the
    approval. For alerts that need it (Actual to everyone, over the threshold…)."""
    from notifier import accounts
    from notifier.db import session_scope

    with session_scope(database_url) as session:
        token = accounts.create_token(session, f"second-{uuid.uuid4().hex[:8]}", "dispatcher")
    response = client.post(f"/api/v1/alerts/{alert_id}/approve",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


TRANSLATE_API_KEY = "lt-test-key"


@pytest.fixture
def translate_standin():
    """A LibreTranslate stand-in for this test only, asking for TRANSLATE_API_KEY."""
    with TranslateStandIn(api_key=TRANSLATE_API_KEY) as standin:
        yield standin


@pytest.fixture
def translate_env(env, translate_standin) -> dict:
    """The `env` fixture plus TRANSLATE_URL and TRANSLATE_API_KEY pointing at the stand-in."""
    return {**env, "TRANSLATE_URL": translate_standin.url, "TRANSLATE_API_KEY": TRANSLATE_API_KEY}

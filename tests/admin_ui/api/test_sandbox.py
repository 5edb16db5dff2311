"""GET /api/v1/sandbox/outbox: what sandboxed channels recorded; 404 without SANDBOX=1."""
from __future__ import annotations

import dataclasses

import pytest

from admin_ui import create_app
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import SandboxMessage
from tests.admin_ui.conftest import NOW


@pytest.fixture
def settings(sandbox_settings):
    """The sandbox exists only with SANDBOX=1 set explicitly."""
    return sandbox_settings


@pytest.fixture
def outbox(settings):
    with session_scope(settings.database_url) as session:
        for n, (channel, to, body) in enumerate([
                ("sms", "+16175550100", "Stay indoors."), ("email", "ana@example.org", "Stay indoors."),
                ("sms", "+16175550101", "Quédese adentro.")]):
            session.add(SandboxMessage(at=NOW, channel=channel, to=to, body=body, delivery_id=n,
                                       provider_id=f"SB{n}"))


def test_it_lists_recorded_messages_newest_first(client, auth, outbox):
    body = client.get("/api/v1/sandbox/outbox", headers=auth("dispatcher")).get_json()
    assert body["total"] == 3
    assert [m["to"] for m in body["items"]] == ["+16175550101", "ana@example.org", "+16175550100"]


@pytest.mark.parametrize("query, expected", [
    ("channel=sms", ["+16175550101", "+16175550100"]),
    ("to=%2B16175550100", ["+16175550100"]),
    ("to=+16175550100", ["+16175550100"]),  # an unencoded + arrives as a space
    ("to=(617) 555-0101", ["+16175550101"]),
    ("to=ANA@example.org", ["ana@example.org"]),
    ("channel=voice", []),
])
def test_it_filters_by_channel_and_recipient(client, auth, outbox, query, expected):
    body = client.get(f"/api/v1/sandbox/outbox?{query}", headers=auth("dispatcher")).get_json()
    assert [m["to"] for m in body["items"]] == expected


def test_a_bad_channel_is_422(client, auth, outbox):
    response = client.get("/api/v1/sandbox/outbox?channel=fax", headers=auth("dispatcher"))
    assert response.status_code == 422


def test_it_is_404_when_no_channel_is_sandboxed(settings, token):
    live = dataclasses.replace(
        settings, sandbox_explicit=False, twilio_account_sid="AC1", twilio_auth_token="t",
        twilio_from_number="+15005550006", smtp_host="127.0.0.1", mail_from="alerts@example.org",
        social_urls=("json://example.org",))
    assert not any(live.is_sandboxed(c) for c in ("sms", "voice", "email", "social"))
    response = create_app(live).test_client().get(
        "/api/v1/sandbox/outbox", headers={"Authorization": f"Bearer {token('admin')}"})
    assert response.status_code == 404
    assert response.is_json


def test_it_is_404_without_sandbox_even_when_a_channel_has_no_credentials(env, token, outbox):
    # Real Twilio and SMTP, SOCIAL_URLS empty: `social` records, yet this is no sandbox.
    live = dataclasses.replace(
        Settings.from_env(env), twilio_account_sid="AC1", twilio_auth_token="t",
        twilio_from_number="+15005550006", smtp_host="127.0.0.1", mail_from="alerts@example.org")
    assert live.is_sandboxed("social")
    response = create_app(live).test_client().get(
        "/api/v1/sandbox/outbox", headers={"Authorization": f"Bearer {token('admin')}"})
    assert response.status_code == 404 and response.is_json

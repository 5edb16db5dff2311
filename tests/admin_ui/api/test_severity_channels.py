"""Severity routing through the API (DESIGN §12), with SEVERITY_CHANNELS at its default."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import AuditEvent

URL = "/api/v1/alerts"
BODY = {"headline": "Shelter in place", "messages": {"en": "Chemical leak. Stay indoors."},
        "category": "Safety", "severity": "Severe", "urgency": "Immediate",
        "certainty": "Observed", "status": "Exercise",
        "area": {"circles": [{"lat": 42.36, "lon": -71.06, "radius_m": 800}]}}


@pytest.fixture
def settings(env) -> Settings:
    return Settings.from_env({k: v for k, v in env.items() if k != "SEVERITY_CHANNELS"})


@pytest.fixture
def headers(auth):
    return auth("dispatcher")


def overrides(settings) -> list[tuple]:
    with session_scope(settings.database_url) as session:
        return [(e.actor, e.object, e.details) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "alert.channels_override"))]


def test_an_alert_that_names_no_channels_goes_out_on_its_severity_s(client, headers, settings):
    severe = client.post(URL, json=BODY, headers=headers)
    assert severe.status_code == 201, severe.get_json()
    assert severe.get_json()["channels"] == ["sms", "voice", "email"]
    minor = client.post(URL, json={**BODY, "severity": "Minor"}, headers=headers)
    assert minor.get_json()["channels"] == ["email"]  # social: no accounts to post to here
    preview = client.post(f"{URL}/preview", json={**BODY, "severity": "Moderate"}, headers=headers)
    assert preview.status_code == 200 and set(preview.get_json()["deliveries"]) >= {"sms", "email"}
    assert overrides(settings) == []


def test_other_channels_are_422_without_a_reason_and_audited_with_one(client, headers, settings):
    refused = client.post(URL, json={**BODY, "channels": ["email"]}, headers=headers)
    assert refused.status_code == 422
    assert "say why" in refused.get_json()["errors"]["channels_reason"][0]
    created = client.post(URL, json={**BODY, "channels": ["email"],
                                     "channels_reason": "Cell towers are down"}, headers=headers)
    assert created.status_code == 201, created.get_json()
    alert = created.get_json()
    assert alert["channels"] == ["email"] and "channels_reason" not in alert
    assert overrides(settings) == [("token:dispatcher-client", f"alert:{alert['id']}", {
        "channels": ["email"], "default": ["sms", "voice", "email"],
        "reason": "Cell towers are down"})]


def test_a_draft_whose_severity_changes_follows_it_unless_its_channels_were_chosen(
        client, headers, settings):
    draft = client.post(URL, json={**BODY, "severity": "Minor"}, headers=headers).get_json()
    raised = client.patch(f"{URL}/{draft['id']}", json={"severity": "Extreme"}, headers=headers)
    assert raised.status_code == 200, raised.get_json()
    assert raised.get_json()["channels"] == ["sms", "voice", "email"]
    chosen = client.post(URL, json={**BODY, "channels": ["sms"], "channels_reason": "SMS only: "
                                    "the voice line is for the shelter hotline"},
                         headers=headers).get_json()
    edited = client.patch(f"{URL}/{chosen['id']}", json={"severity": "Extreme"}, headers=headers)
    assert edited.status_code == 422 and "channels_reason" in edited.get_json()["errors"]
    edited = client.patch(f"{URL}/{chosen['id']}", json={
        "severity": "Extreme", "channels_reason": "Still SMS only"}, headers=headers)
    assert edited.status_code == 200 and edited.get_json()["channels"] == ["sms"]
    assert [d["reason"] for _, _, d in overrides(settings)][-1] == "Still SMS only"


def test_an_all_clear_goes_where_the_alert_went_without_asking_why(client, headers, settings):
    alert = client.post(URL, json={**BODY, "channels": ["sms"], "channels_reason": "SMS only"},
                        headers=headers).get_json()
    assert client.post(f"{URL}/{alert['id']}/send", headers=headers).status_code == 202
    cancelled = client.post(f"{URL}/{alert['id']}/cancel", headers=headers,
                            json={"message": {"en": "All clear. The leak is fixed."}})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["follow_up"]["channels"] == ["sms"]

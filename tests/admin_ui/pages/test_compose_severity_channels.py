"""The compose page under severity routing (DESIGN §12): it shows each severity's channels,
sends on them by default, and asks why when the dispatcher ticks others."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import AuditEvent
from tests.admin_ui.pages.test_alerts import alert_row, compose, form


@pytest.fixture
def settings(env) -> Settings:
    return Settings.from_env({k: v for k, v in env.items() if k != "SEVERITY_CHANNELS"})


def test_the_page_lists_each_severity_s_channels_and_starts_by_severity(signed_in):
    html = signed_in("dispatcher").get("/alerts/new").get_data(as_text=True)
    # Social is implied too, but this installation has no accounts to post to.
    assert 'data-testid="severity-channels-Severe">Severe: sms, voice, email</span>' in html
    assert 'data-testid="severity-channels-Minor">Minor: email</span>' in html
    assert 'value="severity" data-testid="channels-by-severity" checked' in html
    assert 'data-testid="channels-reason"' in html


def test_by_severity_the_draft_gets_the_severity_s_channels(signed_in, settings):
    client = signed_in("dispatcher")
    alert_id = compose(client, channels_mode="severity", severity="Severe")
    assert alert_row(settings, alert_id).channels == ["sms", "voice", "email"]


def test_ticked_channels_that_differ_ask_why_and_keep_the_form(signed_in, settings):
    client = signed_in("dispatcher")
    response = client.post("/alerts/new", data=form(client, channels_mode="chosen",
                                                     severity="Severe", channels="email"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-testid="errors-channels_reason"' in page and "say why" in page
    assert 'value="chosen" data-testid="channels-ticked" checked' in page
    alert_id = compose(client, channels_mode="chosen", severity="Severe", channels="email",
                       channels_reason="Phones are down")
    assert alert_row(settings, alert_id).channels == ["email"]
    with session_scope(settings.database_url) as session:
        [event] = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "alert.channels_override"))
        assert event.actor.startswith("user:") and event.details["reason"] == "Phones are down"


def test_a_draft_on_its_severity_s_channels_opens_again_by_severity(signed_in, settings):
    client = signed_in("dispatcher")
    alert_id = compose(client, channels_mode="severity", severity="Moderate")
    html = client.get(f"/alerts/new?from={alert_id}").get_data(as_text=True)
    assert 'value="severity" data-testid="channels-by-severity" checked' in html

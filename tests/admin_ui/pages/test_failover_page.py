"""The alert page shows failovers, and the row of a channel the alert reached only by failover."""
from __future__ import annotations

from notifier.db import session_scope
from tests.admin_ui.conftest import make_alert, make_delivery, make_subscriber


def test_the_alert_page_counts_failovers_and_shows_the_channel_they_took(
        signed_in, settings, auth, client):
    with session_scope(settings.database_url) as session:
        alert = make_alert(session, state="sent", channels=["sms"])
        sub = make_subscriber(session, channels=["sms", "voice"])
        text = make_delivery(session, alert, sub, status="failed", error_code="21614")
        make_delivery(session, alert, sub, channel="voice", status="delivered",
                      failover_of=text.id)
        alert_id = alert.id
    browser = signed_in("auditor")
    html = browser.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert 'data-testid="failovers">sms→voice 1<' in html
    assert 'data-testid="count-voice-delivered">1<' in html  # not a channel the alert listed
    live = browser.get(f"/alerts/{alert_id}/stats.json").get_json()
    api = client.get(f"/api/v1/alerts/{alert_id}", headers=auth("auditor")).get_json()
    assert live["stats"]["failovers"] == api["stats"]["failovers"] == {"sms→voice": 1}
    assert api["stats"]["channels"]["sms"]["failed"] == 1  # the existing keys are unchanged
